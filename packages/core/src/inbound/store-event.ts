import { type Database, type EventStatus, type NewWebhookEvent, webhookEvents } from "@basalt/db";
import { and, eq } from "drizzle-orm";

export interface StoredEvent {
  readonly id: string;
  readonly status: EventStatus;
  readonly eventType: string | null;
  readonly statusReason: string | null;
  /** True when the source had already delivered an event with this key: nothing new was written. */
  readonly duplicate: boolean;
}

const storedColumns = {
  id: webhookEvents.id,
  status: webhookEvents.status,
  eventType: webhookEvents.eventType,
  statusReason: webhookEvents.statusReason,
};

/**
 * Inserts an event unless its (source, idempotency key) is taken, and returns the stored row either
 * way. The unique index decides, so two copies arriving at the same instant still make one row:
 * the second insert waits for the first to commit, then finds its row.
 */
export async function storeEvent(db: Database, row: NewWebhookEvent): Promise<StoredEvent> {
  const inserted = await db.insert(webhookEvents).values(row).onConflictDoNothing().returning(storedColumns);
  const created = inserted[0];
  if (created) {
    return { ...created, duplicate: false };
  }
  const [existing] = await db
    .select(storedColumns)
    .from(webhookEvents)
    .where(and(eq(webhookEvents.source, row.source), eq(webhookEvents.idempotencyKey, row.idempotencyKey)));
  if (!existing) {
    // Rows are never deleted while the service runs, so a conflict without a row means the unique
    // index is missing: a bug, not a provider's fault.
    throw new Error(`event ${row.source}/${row.idempotencyKey} conflicted but no stored row was found`);
  }
  return { ...existing, duplicate: true };
}
