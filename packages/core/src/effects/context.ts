import type { Transaction, WebhookEvent } from "@basalt/db";
import type { Logger } from "../logger";
import type { Outbox } from "../outbound/outbox/outbox";

/** The context of a side effect: the transaction that also changes the event's status. */
export interface EffectContext {
  readonly tx: Transaction;
  readonly now: Date;
  readonly logger: Logger;
  /** Records outbound messages in the same transaction, so they are sent only if it commits. */
  readonly outbox: Outbox;
}

export interface EventEffectContext extends EffectContext {
  readonly event: WebhookEvent;
  /** The provider's time of the event, or when it was received if the payload has none. */
  readonly occurredAt: Date;
}

/** The end of processing: applied, or deliberately not applied with the reason shown to admins. */
export type EffectResult = { status: "processed" } | { status: "ignored"; reason: string };

export const processed: EffectResult = { status: "processed" };
