import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Database, DatabaseHandle } from "./client";
import { deliveries, deliveryAttempts, webhookEndpoints } from "./schema";

/** A delivery attempt as the delivery worker logs it. */
export interface AttemptRow {
  readonly id: string;
  readonly deliveryId: string;
  readonly attemptNumber: number;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly statusCode: number | null;
  readonly responseBody: string | null;
  readonly error: string | null;
}

export interface DeliverySuccess {
  readonly deliveryId: string;
  readonly attempt: AttemptRow;
}

export interface SuccessBatch {
  /** Only deliveries still pending and leased to this worker are marked; others were taken over. */
  readonly owner: string;
  readonly now: Date;
  readonly successes: readonly DeliverySuccess[];
  /** Endpoints whose run of failures these successes end. */
  readonly endpointIds: readonly string[];
}

/** Records a batch of successful attempts in one transaction and returns the ids of the deliveries it marked. */
export type SuccessWriter = (batch: SuccessBatch) => Promise<Set<string>>;

/**
 * Returns the fastest way each driver has to record successful deliveries: the attempt log rows, the
 * deliveries marked succeeded and the end of their endpoints' runs of failures, atomically. On Postgres
 * that is one statement, so a batch costs one round trip and one commit. Its text does not depend on
 * the batch size, so it stays prepared. On the embedded database, Drizzle runs a transaction.
 */
export function createSuccessWriter(handle: DatabaseHandle): SuccessWriter {
  const client = handle.postgresClient;
  if (client === null) {
    return (batch) => recordSuccessesWithDrizzle(handle.db, batch);
  }
  return async (batch) => {
    const attempts = batch.successes.map((success) => success.attempt);
    // Drizzle makes this client pass timestamps and their arrays through unserialized, so times go as text.
    const now = batch.now.toISOString();
    const rows = await client<{ id: string }[]>`
      with attempts as (
        insert into delivery_attempts
          (id, delivery_id, attempt_number, started_at, duration_ms, status_code, response_body, error)
        select * from unnest(
          ${attempts.map((attempt) => attempt.id)}::text[],
          ${attempts.map((attempt) => attempt.deliveryId)}::text[],
          ${attempts.map((attempt) => attempt.attemptNumber)}::integer[],
          ${attempts.map((attempt) => attempt.startedAt.toISOString())}::text[]::timestamptz[],
          ${attempts.map((attempt) => attempt.durationMs)}::integer[],
          ${attempts.map((attempt) => attempt.statusCode)}::integer[],
          ${attempts.map((attempt) => attempt.responseBody)}::text[],
          ${attempts.map((attempt) => attempt.error)}::text[])
      ), marked as (
        update deliveries
        set status = 'succeeded', completed_at = ${now}, next_attempt_at = null, status_reason = null,
            last_status_code = succeeded.status_code, last_error = null, lease_owner = null,
            lease_expires_at = null, updated_at = ${now}
        from unnest(
          ${batch.successes.map((success) => success.deliveryId)}::text[],
          ${attempts.map((attempt) => attempt.statusCode)}::integer[]) as succeeded (id, status_code)
        where deliveries.id = succeeded.id and deliveries.status = 'pending'
          and deliveries.lease_owner = ${batch.owner}
        returning deliveries.id
      ), recovered as (
        update webhook_endpoints set failing_since = null
        where id = any(${[...batch.endpointIds]}::text[]) and failing_since is not null
      )
      select id from marked`;
    return new Set(rows.map((row) => row.id));
  };
}

/** Records a batch of successes with Drizzle's builder: the embedded database's way, and any caller's without a handle. */
export async function recordSuccessesWithDrizzle(db: Database, batch: SuccessBatch): Promise<Set<string>> {
  return db.transaction(async (tx) => {
    await tx.insert(deliveryAttempts).values(batch.successes.map((success) => success.attempt));
    const marked = new Set<string>();
    for (const [statusCode, ids] of groupByStatus(batch.successes)) {
      const rows = await tx
        .update(deliveries)
        .set({
          status: "succeeded",
          completedAt: batch.now,
          nextAttemptAt: null,
          statusReason: null,
          lastStatusCode: statusCode,
          lastError: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          updatedAt: batch.now,
        })
        .where(
          and(inArray(deliveries.id, ids), eq(deliveries.status, "pending"), eq(deliveries.leaseOwner, batch.owner)),
        )
        .returning({ id: deliveries.id });
      for (const row of rows) {
        marked.add(row.id);
      }
    }
    if (batch.endpointIds.length > 0) {
      await tx
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(and(inArray(webhookEndpoints.id, [...batch.endpointIds]), isNotNull(webhookEndpoints.failingSince)));
    }
    return marked;
  });
}

function groupByStatus(successes: readonly DeliverySuccess[]): Map<number | null, string[]> {
  const byStatus = new Map<number | null, string[]>();
  for (const success of successes) {
    const ids = byStatus.get(success.attempt.statusCode) ?? [];
    ids.push(success.deliveryId);
    byStatus.set(success.attempt.statusCode, ids);
  }
  return byStatus;
}
