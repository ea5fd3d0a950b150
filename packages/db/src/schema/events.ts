import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { bytea, createdAt, timestampTz } from "./columns";

export const eventSources = ["surge", "basaltecho", "resend", "openai"] as const;
export type EventSource = (typeof eventSources)[number];

/**
 * Lifecycle of a received webhook: `pending` until a worker applies it, then `processed`, or `failed`
 * after its last attempt. `ignored` and `rejected` are decided when it is received or processed.
 */
export const eventStatuses = ["pending", "processed", "failed", "ignored", "rejected"] as const;
export type EventStatus = (typeof eventStatuses)[number];

export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: text().primaryKey(),
    source: text({ enum: eventSources }).notNull(),
    /** The provider's identity of the event, unique per source, so a redelivery finds the stored row. */
    idempotencyKey: text().notNull(),
    /** Null when the body could not be read as an event at all. */
    eventType: text(),
    status: text({ enum: eventStatuses }).notNull(),
    /** The request body byte for byte: the signature was computed over exactly these bytes. */
    body: bytea().notNull(),
    contentType: text(),
    /** Request headers worth keeping for inspection; signatures and credentials are never stored. */
    headers: jsonb().$type<Record<string, string>>().notNull(),
    /** The secret that verified the signature: a stored secret id, `env`, or `unsigned`. */
    verifiedBy: text().notNull(),
    receivedAt: timestampTz().notNull(),
    /** The provider's own timestamp of the event, when the payload carries one. */
    occurredAt: timestampTz(),
    /** The reason an event is `ignored` or `rejected`. */
    statusReason: text(),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestampTz(),
    leaseOwner: text(),
    leaseExpiresAt: timestampTz(),
    lastError: text(),
    processedAt: timestampTz(),
    updatedAt: createdAt(),
  },
  (table) => [
    uniqueIndex("webhook_events_source_idempotency_key_unique").on(table.source, table.idempotencyKey),
    index("webhook_events_due_idx").on(table.nextAttemptAt).where(sql`${table.status} = 'pending'`),
    // Ids are UUIDv7, so the primary key already orders events by arrival; failed events, the ones
    // admins look for, get a small partial index. Every index costs each insert on the hot path.
    index("webhook_events_failed_idx").on(table.updatedAt).where(sql`${table.status} = 'failed'`),
  ],
);

export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type NewWebhookEvent = typeof webhookEvents.$inferInsert;
