import type { EventSource, EventStatus } from "@basalt/db";
import type { CoreContext } from "../context";
import { newId } from "../ids";
import type { SecretStore } from "../secrets/secret-store";
import type { SignatureFailureReason } from "../signatures/result";
import { sourceAdapters } from "./adapters";
import type { Envelope, InboundRequest } from "./envelope";
import type { EventWriter } from "./store-event";

export interface ReceiveContext extends CoreContext {
  readonly secrets: SecretStore;
  readonly events: EventWriter;
  /** How far a signed timestamp may be from now, in seconds. */
  readonly signatureToleranceSeconds: number;
  /** Called after a new pending event commits, so a worker can start on it at once. */
  readonly onPendingEvent?: (eventId: string) => void;
}

export interface ReceiveInput extends InboundRequest {
  readonly source: EventSource;
}

export type ReceiveOutcome =
  | { kind: "not_configured"; message: string }
  | { kind: "unauthorized"; reason: SignatureFailureReason; message: string }
  | {
      kind: "stored";
      eventId: string;
      eventType: string | null;
      status: EventStatus;
      /** Reason the event is rejected or ignored. */
      reason: string | null;
      duplicate: boolean;
    };

/**
 * Headers kept with an event for admins to inspect: the provider's ids and timestamps, and what describes
 * the body. Signatures and credentials are never kept.
 */
const keptHeaderNames = [
  "content-type",
  "content-length",
  "user-agent",
  "x-request-id",
  "x-portalpay-delivery",
  "svix-id",
  "svix-timestamp",
  "webhook-id",
  "webhook-timestamp",
] as const;

/**
 * Maximum length of a stored event type. Known provider types are short names, so this only cuts
 * unknown values, which could otherwise fill rows, logs and responses.
 */
const maxEventTypeLength = 200;
/** Maximum length of a stored and returned rejection or ignore reason, which can quote provider values. */
const maxReasonLength = 1_000;

/**
 * Receives one webhook: checks that the source has a secret, verifies the signature on the raw bytes,
 * classifies the body, and stores it durably. Nothing is parsed before the signature is verified, and
 * every verified body is stored, as rejected or ignored if it cannot be processed. Throws only when the
 * database fails.
 */
export async function receiveWebhook(ctx: ReceiveContext, input: ReceiveInput): Promise<ReceiveOutcome> {
  const adapter = sourceAdapters[input.source];
  const keys = await ctx.secrets.keysFor(input.source);

  let verifiedBy = "unsigned";
  if (keys.length > 0) {
    const verification = adapter.verify(input, keys, {
      clock: ctx.clock,
      toleranceSeconds: ctx.signatureToleranceSeconds,
    });
    if (!verification.ok) {
      return { kind: "unauthorized", reason: verification.reason, message: verification.message };
    }
    verifiedBy = verification.keyId;
  } else if (await ctx.secrets.hasUnusableSecrets(input.source)) {
    // Fails closed: a source whose secrets cannot be read must not fall back to accepting unsigned events.
    return {
      kind: "not_configured",
      message: `The signing secrets of ${input.source} cannot be used; check SECRETS_ENCRYPTION_KEY.`,
    };
  } else if (!adapter.definition.allowsUnsigned) {
    return {
      kind: "not_configured",
      message: `No signing secret is configured for ${input.source}; set ${adapter.definition.secretEnv.join(" or ")} or add a secret in the console.`,
    };
  }

  const envelope = adapter.parse(input);
  const receivedAt = ctx.clock.now();
  const stored = await ctx.events.store({
    id: newId("evt"),
    source: input.source,
    idempotencyKey: envelope.idempotencyKey,
    eventType: storableText(envelope.eventType, maxEventTypeLength),
    status: statusOf(envelope),
    body: input.body,
    contentType: input.headers.get("content-type"),
    headers: keptHeaders(input.headers),
    verifiedBy,
    receivedAt,
    occurredAt: envelope.kind === "invalid" ? null : envelope.occurredAt,
    statusReason: envelope.kind === "handled" ? null : storableText(envelope.reason, maxReasonLength),
    nextAttemptAt: envelope.kind === "handled" ? receivedAt : null,
    updatedAt: receivedAt,
  });

  if (!stored.duplicate && stored.status === "pending") {
    ctx.onPendingEvent?.(stored.id);
  }
  return {
    kind: "stored",
    eventId: stored.id,
    eventType: stored.eventType,
    status: stored.status,
    reason: stored.statusReason,
    duplicate: stored.duplicate,
  };
}

function statusOf(envelope: Envelope): EventStatus {
  switch (envelope.kind) {
    case "handled":
      return "pending";
    case "unhandled":
      return "ignored";
    case "invalid":
      return "rejected";
  }
}

function keptHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of keptHeaderNames) {
    const value = headers.get(name);
    if (value !== null) {
      kept[name] = value;
    }
  }
  return kept;
}

/**
 * Makes provider text storable in a Postgres text column, which rejects NUL characters: NUL and
 * unpaired UTF-16 surrogates become U+FFFD, and text past `maxLength` is cut and ends with "…".
 */
function storableText(value: string | null, maxLength: number): string | null {
  if (value === null) {
    return null;
  }
  const cut = value.length > maxLength ? `${value.slice(0, maxLength - 1)}…` : value;
  return cut.replaceAll("\u0000", "\uFFFD").toWellFormed();
}
