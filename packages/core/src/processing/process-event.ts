import { webhookEvents } from "@basalt/db";
import { and, eq } from "drizzle-orm";
import type { CoreContext } from "../context";
import { applyEvent } from "../effects/apply-event";
import { CoreError, describeError } from "../errors";
import { retryDelayMs, type WorkerSettings } from "./settings";

export type ProcessOutcome = "processed" | "ignored" | "retry_scheduled" | "failed" | "lease_lost";

/** Longest error message kept on an event. */
const maxErrorLength = 2_000;

/**
 * Processes one claimed event: its side effects and its status change commit in one transaction, under
 * a row lock that also checks the lease is still ours, so no two workers ever apply an event twice. A
 * failure rolls the side effects back and schedules a retry, or marks the event failed after its last
 * attempt, keeping the error.
 */
export async function processEvent(
  ctx: CoreContext,
  input: { id: string; owner: string; settings: Pick<WorkerSettings, "retryDelaysMs"> },
): Promise<ProcessOutcome> {
  const startedAt = performance.now();
  const now = ctx.clock.now();
  let logger = ctx.logger.child({ event_id: input.id });

  try {
    const outcome = await ctx.db.transaction(async (tx) => {
      const [event] = await tx
        .select()
        .from(webhookEvents)
        .where(
          and(
            eq(webhookEvents.id, input.id),
            eq(webhookEvents.status, "pending"),
            eq(webhookEvents.leaseOwner, input.owner),
          ),
        )
        .for("update");
      if (!event) {
        return "lease_lost" as const;
      }
      logger = logger.child({ source: event.source, event_type: event.eventType });

      const result = await applyEvent({ tx, event, now, logger, occurredAt: event.occurredAt ?? event.receivedAt });
      await tx
        .update(webhookEvents)
        .set({
          status: result.status,
          statusReason: result.status === "ignored" ? result.reason : null,
          processedAt: now,
          leaseOwner: null,
          leaseExpiresAt: null,
          nextAttemptAt: null,
          lastError: null,
          updatedAt: now,
        })
        .where(eq(webhookEvents.id, event.id));
      return result.status;
    });
    const level = outcome === "lease_lost" ? "warn" : "info";
    logger[level]({ outcome, duration_ms: Math.round(performance.now() - startedAt) }, "event processed");
    return outcome;
  } catch (error) {
    return recordFailure(ctx, input, error, logger, startedAt);
  }
}

async function recordFailure(
  ctx: CoreContext,
  input: { id: string; owner: string; settings: Pick<WorkerSettings, "retryDelaysMs"> },
  error: unknown,
  logger: CoreContext["logger"],
  startedAt: number,
): Promise<ProcessOutcome> {
  const message = describeError(error).slice(0, maxErrorLength);
  const now = ctx.clock.now();
  const [event] = await ctx.db
    .select({ attempts: webhookEvents.attempts })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.id, input.id), eq(webhookEvents.leaseOwner, input.owner)));
  if (!event) {
    logger.warn({ error: message }, "event failed after its lease was taken over");
    return "lease_lost";
  }

  const maxAttempts = input.settings.retryDelaysMs.length + 1;
  const final = event.attempts >= maxAttempts;
  const delayMs = final ? 0 : retryDelayMs(input.settings.retryDelaysMs, event.attempts);
  await ctx.db
    .update(webhookEvents)
    .set({
      status: final ? "failed" : "pending",
      lastError: message,
      nextAttemptAt: final ? null : new Date(now.getTime() + delayMs),
      leaseOwner: null,
      leaseExpiresAt: null,
      updatedAt: now,
    })
    .where(and(eq(webhookEvents.id, input.id), eq(webhookEvents.leaseOwner, input.owner)));

  // Expected failures (a missing invoice, a mismatched amount) are warnings; anything else is a bug or an outage.
  const level = error instanceof CoreError ? "warn" : "error";
  logger[level](
    {
      outcome: final ? "failed" : "retry_scheduled",
      attempts: event.attempts,
      max_attempts: maxAttempts,
      retry_in_ms: final ? undefined : delayMs,
      duration_ms: Math.round(performance.now() - startedAt),
      error: message,
    },
    final ? "event failed after its last attempt" : "event processing failed; retry scheduled",
  );
  return final ? "failed" : "retry_scheduled";
}
