import {
  type DeliveryTarget,
  deliveries,
  type Executor,
  type OutboundEventType,
  outboundMessages,
  webhookEndpoints,
} from "@basalt/db";
import { and, arrayContains, eq, isNull, or } from "drizzle-orm";
import { newId } from "../../ids";

/** Priority of jobs that must run before any other delivery. */
export const urgentPriority = 10;

/**
 * Records outbound messages inside the transaction of the change that causes them (a transactional
 * outbox): a message is sent if and only if that change commits. One Outbox serves one transaction;
 * `queued` tells the caller to wake the delivery worker after the commit.
 */
export class Outbox {
  readonly #tx: Executor;
  readonly #now: Date;
  readonly #eventId: string | null;
  #queued = 0;

  constructor(tx: Executor, now: Date, eventId: string | null = null) {
    this.#tx = tx;
    this.#now = now;
    this.#eventId = eventId;
  }

  /** Number of deliveries queued so far in this transaction. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Records a CRM event and queues one delivery to every enabled endpoint subscribed to its type. A
   * form's own endpoint receives `form.submitted` of that form only; `formId` names the form.
   */
  async recordEvent(type: OutboundEventType, payload: unknown, options: { formId?: string } = {}): Promise<number> {
    const subscribed = and(
      eq(webhookEndpoints.enabled, true),
      arrayContains(webhookEndpoints.eventTypes, [type]),
      options.formId === undefined
        ? isNull(webhookEndpoints.formId)
        : or(isNull(webhookEndpoints.formId), eq(webhookEndpoints.formId, options.formId)),
    );
    const endpoints = await this.#tx.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(subscribed);
    if (endpoints.length === 0) {
      return 0;
    }

    const messageId = await this.#insertMessage(type, payload);
    await this.#tx.insert(deliveries).values(
      endpoints.map((endpoint) => ({
        id: newId("dlv"),
        messageId,
        target: "endpoint" as const,
        endpointId: endpoint.id,
        nextAttemptAt: this.#now,
        createdAt: this.#now,
        updatedAt: this.#now,
      })),
    );
    this.#queued += endpoints.length;
    return endpoints.length;
  }

  /** Queues a call to an integration (Resend, Mercury, OpenAI) with its request as the payload. */
  async queueIntegration(target: Exclude<DeliveryTarget, "endpoint">, payload: unknown, priority = 0): Promise<string> {
    const messageId = await this.#insertMessage(`integration.${target}`, payload);
    const id = newId("dlv");
    await this.#tx.insert(deliveries).values({
      id,
      messageId,
      target,
      priority,
      nextAttemptAt: this.#now,
      createdAt: this.#now,
      updatedAt: this.#now,
    });
    this.#queued++;
    return id;
  }

  async #insertMessage(eventType: string, payload: unknown): Promise<string> {
    const id = newId("msg");
    await this.#tx.insert(outboundMessages).values({
      id,
      eventType,
      body: JSON.stringify(payload),
      eventId: this.#eventId,
      createdAt: this.#now,
    });
    return id;
  }
}
