import { deliveries, deliveryAttempts, type Transaction, webhookEndpoints } from "@basalt/db";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { newId } from "../../ids";
import type { OutboundContext } from "../context";
import type { DeliveryExecutor, ExecutorResult } from "../executors/executor";
import { deliveryRetryDelayMs } from "../settings";
import type { ClaimedDelivery } from "./claim-deliveries";

export type DeliveryOutcome = "succeeded" | "retry_scheduled" | "failed" | "skipped" | "cancelled" | "lease_lost";

/** Raised inside the recording transaction when another worker took the delivery over. */
class DeliveryLeaseLostError extends Error {
  override readonly name = "DeliveryLeaseLostError";
}

/** Maximum length of the error message kept on a delivery or an attempt. */
const maxErrorLength = 2_000;

/**
 * Records an attempt and its consequence in one transaction: the attempt log row, the delivery's new
 * state (done, or the next attempt time), the endpoint's run of failures (disabling it after a 410 or
 * five days of failures), and the executor's own follow-up. Nothing is written if the lease was lost.
 */
export async function recordOutcome(
  ctx: OutboundContext,
  job: ClaimedDelivery,
  owner: string,
  executor: DeliveryExecutor,
  result: ExecutorResult,
): Promise<DeliveryOutcome> {
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      if ((result.kind === "succeeded" || result.kind === "failed") && result.attempt) {
        await tx.insert(deliveryAttempts).values({
          id: newId("att"),
          deliveryId: job.delivery.id,
          attemptNumber: job.delivery.attempts,
          startedAt: result.attempt.startedAt,
          durationMs: result.attempt.durationMs,
          statusCode: result.attempt.statusCode,
          responseBody: result.attempt.responseBody,
          error: result.attempt.error?.slice(0, maxErrorLength) ?? null,
        });
      }

      const { outcome, changes } = nextState(ctx, job, executor, result, now);
      const updated = await tx
        .update(deliveries)
        .set({ ...changes, leaseOwner: null, leaseExpiresAt: null, updatedAt: now })
        .where(
          and(eq(deliveries.id, job.delivery.id), eq(deliveries.status, "pending"), eq(deliveries.leaseOwner, owner)),
        )
        .returning({ id: deliveries.id });
      if (updated.length === 0) {
        throw new DeliveryLeaseLostError(`delivery ${job.delivery.id} is no longer leased to ${owner}`);
      }

      if (job.endpoint !== null && (result.kind === "succeeded" || result.kind === "failed")) {
        await trackEndpointHealth(tx, ctx, job.endpoint.id, result, now);
      }
      if (result.kind === "succeeded") {
        await executor.onSucceeded?.(tx, ctx, job, result.data ?? {});
      } else if (outcome === "failed" || outcome === "skipped" || outcome === "cancelled") {
        await executor.onGaveUp?.(tx, ctx, job, outcome);
      }
      return outcome;
    });
  } catch (error) {
    if (error instanceof DeliveryLeaseLostError) {
      return "lease_lost";
    }
    throw error;
  }
}

function nextState(
  ctx: OutboundContext,
  job: ClaimedDelivery,
  executor: DeliveryExecutor,
  result: ExecutorResult,
  now: Date,
): { outcome: Exclude<DeliveryOutcome, "lease_lost">; changes: PgUpdateSetSource<typeof deliveries> } {
  switch (result.kind) {
    case "succeeded":
      return {
        outcome: "succeeded",
        changes: {
          status: "succeeded",
          completedAt: now,
          nextAttemptAt: null,
          statusReason: result.reason ?? null,
          lastStatusCode: result.attempt?.statusCode ?? null,
          lastError: null,
        },
      };
    case "skipped":
    case "cancelled":
      // Nothing was sent, so the claim does not count as an attempt.
      return {
        outcome: result.kind,
        changes: {
          status: result.kind,
          completedAt: now,
          nextAttemptAt: null,
          statusReason: result.reason,
          attempts: sql`greatest(${deliveries.attempts} - 1, 0)`,
        },
      };
    case "failed": {
      const delays = executor.retryDelaysMs ?? ctx.deliverySettings.retryDelaysMs;
      const final = result.permanent === true || job.delivery.attempts > delays.length;
      const error = result.error.slice(0, maxErrorLength);
      const common = { lastStatusCode: result.attempt?.statusCode ?? null, lastError: error };
      if (final) {
        return {
          outcome: "failed",
          changes: { ...common, status: "failed", completedAt: now, nextAttemptAt: null, statusReason: error },
        };
      }
      const delayMs =
        result.retryAfterMs ?? deliveryRetryDelayMs(delays, job.delivery.attempts, ctx.deliverySettings.jitter);
      return { outcome: "retry_scheduled", changes: { ...common, nextAttemptAt: new Date(now.getTime() + delayMs) } };
    }
  }
}

/**
 * Keeps an endpoint's run of failures: a success ends it; a failure starts it or, after five days of
 * failures without a success, disables the endpoint. A 410 Gone disables it at once.
 */
async function trackEndpointHealth(
  tx: Transaction,
  ctx: OutboundContext,
  endpointId: string,
  result: Extract<ExecutorResult, { kind: "succeeded" | "failed" }>,
  now: Date,
): Promise<void> {
  if (result.kind === "succeeded") {
    await tx
      .update(webhookEndpoints)
      .set({ failingSince: null })
      .where(and(eq(webhookEndpoints.id, endpointId), isNotNull(webhookEndpoints.failingSince)));
    return;
  }

  const [endpoint] = await tx
    .update(webhookEndpoints)
    .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now.toISOString()}::timestamptz)` })
    .where(eq(webhookEndpoints.id, endpointId))
    .returning({ failingSince: webhookEndpoints.failingSince, enabled: webhookEndpoints.enabled });
  if (!endpoint?.enabled) {
    return;
  }
  const failingMs = endpoint.failingSince ? now.getTime() - endpoint.failingSince.getTime() : 0;
  const reason =
    result.disableEndpoint ??
    (failingMs >= ctx.deliverySettings.disableAfterFailingMs
      ? `every delivery failed since ${endpoint.failingSince?.toISOString()}, for more than ${Math.round(ctx.deliverySettings.disableAfterFailingMs / 86_400_000)} days; the last error was: ${result.error}`
      : null);
  if (reason !== null) {
    await tx
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: reason.slice(0, maxErrorLength), disabledAt: now, updatedAt: now })
      .where(eq(webhookEndpoints.id, endpointId));
    ctx.logger.warn({ endpoint_id: endpointId, reason }, "webhook endpoint disabled");
  }
}
