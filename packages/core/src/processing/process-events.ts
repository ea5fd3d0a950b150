import { type Transaction, type WebhookEvent, webhookEvents } from "@basalt/db";
import { and, eq, inArray } from "drizzle-orm";
import type { CoreContext } from "../context";
import { applyEvent } from "../effects/apply-event";
import type { EffectResult } from "../effects/context";
import { CoreError, describeError } from "../errors";
import { Outbox } from "../outbound/outbox/outbox";
import { retryDelayMs, type WorkerSettings } from "./settings";

export type ProcessOutcome = "processed" | "ignored" | "retry_scheduled" | "failed" | "lease_lost";

/** Maximum length of the error message kept on an event. */
const maxErrorLength = 2_000;

/** Raised inside a transaction when an event's lease was taken over, to roll its effects back. */
class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
}

export interface ProcessEventsInput {
  /** Events claimed by `owner`, oldest first. */
  readonly events: readonly WebhookEvent[];
  readonly owner: string;
  readonly settings: Pick<WorkerSettings, "retryDelaysMs">;
}

/**
 * Processes claimed events. Each event's side effects commit together with its status change, and the
 * status only changes while the event is still pending and leased to `owner`, so no two workers ever
 * apply an event twice. Several events first run in one transaction, which saves a commit per event;
 * if any of them fails, that transaction rolls back and each event runs again in its own.
 */
export async function processEvents(ctx: CoreContext, input: ProcessEventsInput): Promise<ProcessOutcome[]> {
  if (input.events.length > 1) {
    const outcomes = await processTogether(ctx, input).catch(() => null);
    if (outcomes !== null) {
      return outcomes;
    }
  }
  const outcomes: ProcessOutcome[] = [];
  for (const event of input.events) {
    outcomes.push(await processAlone(ctx, event, input));
  }
  return outcomes;
}

async function processTogether(ctx: CoreContext, input: ProcessEventsInput): Promise<ProcessOutcome[]> {
  const startedAt = performance.now();
  const now = ctx.clock.now();
  let queued = 0;
  const results = await ctx.db.transaction(async (tx) => {
    const applied: EffectResult[] = [];
    for (const event of input.events) {
      const outbox = new Outbox(tx, now, event.id);
      applied.push(await applyEvent({ tx, event, now, logger: ctx.logger, outbox, occurredAt: occurredAtOf(event) }));
      queued += outbox.queued;
    }
    await markDone(tx, input.events, applied, input.owner, now);
    return applied;
  });
  if (queued > 0) {
    ctx.onDeliveriesQueued?.();
  }
  const durationMs = Math.round(performance.now() - startedAt);
  return input.events.map((event, index) => {
    const outcome = results[index]?.status ?? "processed";
    logOutcome(ctx, event, outcome, { duration_ms: durationMs, batch_size: input.events.length });
    return outcome;
  });
}

async function processAlone(ctx: CoreContext, event: WebhookEvent, input: ProcessEventsInput): Promise<ProcessOutcome> {
  const startedAt = performance.now();
  const now = ctx.clock.now();
  try {
    let queued = 0;
    const result = await ctx.db.transaction(async (tx) => {
      const outbox = new Outbox(tx, now, event.id);
      const applied = await applyEvent({ tx, event, now, logger: ctx.logger, outbox, occurredAt: occurredAtOf(event) });
      await markDone(tx, [event], [applied], input.owner, now);
      queued = outbox.queued;
      return applied;
    });
    if (queued > 0) {
      ctx.onDeliveriesQueued?.();
    }
    logOutcome(ctx, event, result.status, { duration_ms: Math.round(performance.now() - startedAt) });
    return result.status;
  } catch (error) {
    if (error instanceof LeaseLostError) {
      logOutcome(ctx, event, "lease_lost", {});
      return "lease_lost";
    }
    return recordFailure(ctx, event, input, error, startedAt);
  }
}

/** The provider's time of the event, or when it was received if the payload has none. */
function occurredAtOf(event: WebhookEvent): Date {
  return event.occurredAt ?? event.receivedAt;
}

/**
 * Sets the final status of events whose effects ran in `tx`, only where the event is still pending and
 * leased to `owner`. Throws LeaseLostError, rolling the effects back, if any event was taken over.
 */
async function markDone(
  tx: Transaction,
  events: readonly WebhookEvent[],
  results: readonly EffectResult[],
  owner: string,
  now: Date,
): Promise<void> {
  const done = {
    processedAt: now,
    leaseOwner: null,
    leaseExpiresAt: null,
    nextAttemptAt: null,
    lastError: null,
    updatedAt: now,
  };
  const ownedPending = (ids: string[]) =>
    and(inArray(webhookEvents.id, ids), eq(webhookEvents.status, "pending"), eq(webhookEvents.leaseOwner, owner));

  const processedIds = events.filter((_, index) => results[index]?.status === "processed").map((event) => event.id);
  let updated = 0;
  if (processedIds.length > 0) {
    const rows = await tx
      .update(webhookEvents)
      .set({ ...done, status: "processed", statusReason: null })
      .where(ownedPending(processedIds))
      .returning({ id: webhookEvents.id });
    updated += rows.length;
  }
  for (const [index, event] of events.entries()) {
    const result = results[index];
    if (result?.status !== "ignored") {
      continue;
    }
    const rows = await tx
      .update(webhookEvents)
      .set({ ...done, status: "ignored", statusReason: result.reason })
      .where(ownedPending([event.id]))
      .returning({ id: webhookEvents.id });
    updated += rows.length;
  }
  if (updated !== events.length) {
    throw new LeaseLostError(`${events.length - updated} of ${events.length} events are no longer leased to ${owner}`);
  }
}

/** Records a failed attempt: schedules a retry with backoff, or marks the event failed after its last attempt. */
async function recordFailure(
  ctx: CoreContext,
  event: WebhookEvent,
  input: ProcessEventsInput,
  error: unknown,
  startedAt: number,
): Promise<ProcessOutcome> {
  const message = describeError(error).slice(0, maxErrorLength);
  const now = ctx.clock.now();
  const maxAttempts = input.settings.retryDelaysMs.length + 1;
  const final = event.attempts >= maxAttempts;
  const delayMs = final ? 0 : retryDelayMs(input.settings.retryDelaysMs, event.attempts);
  const updated = await ctx.db
    .update(webhookEvents)
    .set({
      status: final ? "failed" : "pending",
      lastError: message,
      nextAttemptAt: final ? null : new Date(now.getTime() + delayMs),
      leaseOwner: null,
      leaseExpiresAt: null,
      updatedAt: now,
    })
    .where(
      and(
        eq(webhookEvents.id, event.id),
        eq(webhookEvents.status, "pending"),
        eq(webhookEvents.leaseOwner, input.owner),
      ),
    )
    .returning({ id: webhookEvents.id });
  if (updated.length === 0) {
    logOutcome(ctx, event, "lease_lost", { error: message });
    return "lease_lost";
  }

  const outcome = final ? "failed" : "retry_scheduled";
  logOutcome(ctx, event, outcome, {
    max_attempts: maxAttempts,
    retry_in_ms: final ? undefined : delayMs,
    duration_ms: Math.round(performance.now() - startedAt),
    error: message,
    // Expected failures (a missing invoice, a mismatched amount) are warnings; anything else is a bug or an outage.
    expected: error instanceof CoreError,
  });
  return outcome;
}

function logOutcome(
  ctx: CoreContext,
  event: WebhookEvent,
  outcome: ProcessOutcome,
  fields: Record<string, unknown>,
): void {
  const entry = {
    event_id: event.id,
    source: event.source,
    event_type: event.eventType,
    outcome,
    attempts: event.attempts,
    ...fields,
  };
  switch (outcome) {
    case "processed":
    case "ignored":
      ctx.logger.info(entry, "event processed");
      return;
    case "retry_scheduled":
      ctx.logger.warn(entry, "event processing failed; retry scheduled");
      return;
    case "failed":
      ctx.logger.error(entry, "event failed after its last attempt");
      return;
    case "lease_lost":
      ctx.logger.warn(entry, "event lease was taken over by another worker; its effects were rolled back");
      return;
  }
}
