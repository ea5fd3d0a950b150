import { type Database, type WebhookEvent, webhookEvents } from "@basalt/db";
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";

/**
 * Claims up to `limit` due pending events for `owner` with a lease and returns them oldest first.
 * SKIP LOCKED lets any number of workers claim at once without waiting on each other or taking the
 * same event; an event whose lease expired (its worker crashed) is due again. Each claim counts as an
 * attempt.
 */
export async function claimEvents(
  db: Database,
  input: { owner: string; now: Date; leaseMs: number; limit: number },
): Promise<WebhookEvent[]> {
  const due = db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.status, "pending"), lte(webhookEvents.nextAttemptAt, input.now)))
    .orderBy(asc(webhookEvents.nextAttemptAt))
    .limit(input.limit)
    .for("update", { skipLocked: true });

  const leaseExpiresAt = new Date(input.now.getTime() + input.leaseMs);
  const claimed = await db
    .update(webhookEvents)
    .set({
      leaseOwner: input.owner,
      leaseExpiresAt,
      // A claimed event is due again when its lease expires. Moving it there keeps the due index scan
      // from wading through events that are being processed.
      nextAttemptAt: leaseExpiresAt,
      attempts: sql`${webhookEvents.attempts} + 1`,
      updatedAt: input.now,
    })
    .where(inArray(webhookEvents.id, due))
    .returning();
  // UPDATE ... RETURNING gives no order; ids are UUIDv7, so sorting by id restores arrival order.
  return claimed.sort((left, right) => (left.id < right.id ? -1 : 1));
}

/** Gives back claimed events that were never started, so another worker takes them at once. */
export async function releaseEvents(
  db: Database,
  input: { owner: string; ids: readonly string[]; now: Date },
): Promise<void> {
  if (input.ids.length === 0) {
    return;
  }
  await db
    .update(webhookEvents)
    .set({
      leaseOwner: null,
      leaseExpiresAt: null,
      nextAttemptAt: input.now,
      attempts: sql`greatest(${webhookEvents.attempts} - 1, 0)`,
    })
    .where(
      and(
        inArray(webhookEvents.id, [...input.ids]),
        eq(webhookEvents.leaseOwner, input.owner),
        eq(webhookEvents.status, "pending"),
      ),
    );
}
