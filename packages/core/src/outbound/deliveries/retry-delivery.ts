import { deliveries } from "@basalt/db";
import { and, eq, inArray } from "drizzle-orm";
import { ConflictError, NotFoundError } from "../../errors";
import type { OutboundContext } from "../context";

const retryable = ["failed", "cancelled", "skipped"] as const;

const freshSeries = (now: Date) => ({
  status: "pending" as const,
  attempts: 0,
  nextAttemptAt: now,
  leaseOwner: null,
  leaseExpiresAt: null,
  completedAt: null,
  statusReason: null,
  updatedAt: now,
});

/** Starts a fresh series of attempts for a delivery that failed, was skipped or was cancelled. */
export async function retryDelivery(ctx: OutboundContext, input: { id: string }): Promise<void> {
  const now = ctx.clock.now();
  const updated = await ctx.db
    .update(deliveries)
    .set(freshSeries(now))
    .where(and(eq(deliveries.id, input.id), inArray(deliveries.status, [...retryable])))
    .returning({ id: deliveries.id });
  if (updated.length === 0) {
    const [delivery] = await ctx.db
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(eq(deliveries.id, input.id));
    if (!delivery) {
      throw new NotFoundError(`delivery ${input.id} not found`);
    }
    throw new ConflictError(
      `delivery ${input.id} is ${delivery.status}; only failed, skipped or cancelled deliveries can be retried`,
    );
  }
  ctx.logger.info({ delivery_id: input.id }, "delivery queued again by an admin");
  ctx.onDeliveriesQueued?.();
}

/** Starts a fresh series for every failed or cancelled delivery of an endpoint; returns how many. */
export async function retryEndpointDeliveries(ctx: OutboundContext, input: { endpointId: string }): Promise<number> {
  const now = ctx.clock.now();
  const updated = await ctx.db
    .update(deliveries)
    .set(freshSeries(now))
    .where(and(eq(deliveries.endpointId, input.endpointId), inArray(deliveries.status, ["failed", "cancelled"])))
    .returning({ id: deliveries.id });
  ctx.logger.info(
    { endpoint_id: input.endpointId, deliveries: updated.length },
    "endpoint deliveries queued again by an admin",
  );
  if (updated.length > 0) {
    ctx.onDeliveriesQueued?.();
  }
  return updated.length;
}
