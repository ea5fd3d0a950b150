import { type Database, rateLimitCounters } from "@basalt/db";
import { lt, sql } from "drizzle-orm";

export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Counts one request for `key` in the current fixed window and returns whether it is within the limit,
 * with the seconds until the window ends. The counter lives in Postgres, so every process shares it.
 */
export async function consumeRateLimit(
  db: Database,
  key: string,
  rateLimit: RateLimit,
  now: Date,
): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const windowStart = new Date(Math.floor(now.getTime() / rateLimit.windowMs) * rateLimit.windowMs);
  const [row] = await db
    .insert(rateLimitCounters)
    .values({ key, windowStart, count: 1 })
    .onConflictDoUpdate({
      target: [rateLimitCounters.key, rateLimitCounters.windowStart],
      set: { count: sql`${rateLimitCounters.count} + 1` },
    })
    .returning({ count: rateLimitCounters.count });
  const retryAfterSeconds = Math.max(1, Math.ceil((windowStart.getTime() + rateLimit.windowMs - now.getTime()) / 1000));
  return { allowed: (row?.count ?? 0) <= rateLimit.limit, retryAfterSeconds };
}

/** Deletes counters of windows that ended more than an hour ago. */
export async function pruneRateLimits(db: Database, now: Date): Promise<void> {
  await db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, new Date(now.getTime() - 3_600_000)));
}
