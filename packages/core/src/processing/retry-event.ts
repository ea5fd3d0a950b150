import { webhookEvents } from "@basalt/db";
import { and, eq, isNotNull, or } from "drizzle-orm";
import type { CoreContext } from "../context";
import { ConflictError, NotFoundError } from "../errors";

/**
 * Puts a failed event back in the queue with a fresh series of attempts, for an admin who fixed its
 * cause. An event that processing ignored (an email we never sent, say) can be retried too; events
 * ignored or rejected on receipt cannot, because their type or body cannot be processed at all.
 */
export async function retryEvent(
  ctx: CoreContext & { onPendingEvent?: (id: string) => void },
  input: { id: string },
): Promise<void> {
  const now = ctx.clock.now();
  const updated = await ctx.db
    .update(webhookEvents)
    .set({ status: "pending", attempts: 0, nextAttemptAt: now, leaseOwner: null, leaseExpiresAt: null, updatedAt: now })
    .where(
      and(
        eq(webhookEvents.id, input.id),
        or(
          eq(webhookEvents.status, "failed"),
          and(eq(webhookEvents.status, "ignored"), isNotNull(webhookEvents.processedAt)),
        ),
      ),
    )
    .returning({ id: webhookEvents.id });
  if (updated.length === 0) {
    const [event] = await ctx.db
      .select({ status: webhookEvents.status })
      .from(webhookEvents)
      .where(eq(webhookEvents.id, input.id));
    if (!event) {
      throw new NotFoundError(`event ${input.id} not found`);
    }
    throw new ConflictError(
      `event ${input.id} is ${event.status}; only failed events and events ignored during processing can be retried`,
    );
  }
  ctx.logger.info({ event_id: input.id }, "event queued again by an admin");
  ctx.onPendingEvent?.(input.id);
}
