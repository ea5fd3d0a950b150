import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { bytea, createdAt, timestampTz } from "./columns";
import { forms } from "./forms";

/** CRM events that customer endpoints can subscribe to. */
export const outboundEventTypes = [
  "form.submitted",
  "invoice.paid",
  "opportunity.closed_won",
  "meeting.scheduled",
  "lead.stage_changed",
  "email.bounced",
  "email.complained",
  "call.ended",
] as const;
export type OutboundEventType = (typeof outboundEventTypes)[number];

/** A customer's HTTPS endpoint that receives signed CRM events. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text().primaryKey(),
    url: text().notNull(),
    description: text(),
    eventTypes: text().array().notNull(),
    /** Set on the endpoint that a form's `webhook_url` created; such an endpoint receives only that form's submissions. */
    formId: text().references(() => forms.id),
    enabled: boolean().notNull().default(true),
    disabledReason: text(),
    disabledAt: timestampTz(),
    /** Start of the current run of failed attempts; cleared by any success. */
    failingSince: timestampTz(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (table) => [uniqueIndex("webhook_endpoints_form_unique").on(table.formId).where(sql`${table.formId} is not null`)],
);

/** Signing secrets of endpoints, encrypted with AES-256-GCM. A rotated-out secret keeps signing until it expires. */
export const endpointSecrets = pgTable(
  "endpoint_secrets",
  {
    id: text().primaryKey(),
    endpointId: text()
      .notNull()
      .references(() => webhookEndpoints.id),
    /** 12-byte nonce, then the ciphertext with its 16-byte authentication tag. */
    ciphertext: bytea().notNull(),
    /** The first 12 hex digits of the secret's SHA-256. */
    fingerprint: text().notNull(),
    createdAt: createdAt(),
    /** Null for the current secret; set when it is rotated out. */
    expiresAt: timestampTz(),
  },
  (table) => [index("endpoint_secrets_endpoint_idx").on(table.endpointId)],
);

/** A message to send: a CRM event for endpoints, or the request of an integration call. */
export const outboundMessages = pgTable("outbound_messages", {
  /** Also the `webhook-id` header, which stays the same across retries. */
  id: text().primaryKey(),
  eventType: text().notNull(),
  /** The JSON body exactly as it is sent. */
  body: text().notNull(),
  /** The received webhook event whose processing recorded this message, if any. */
  eventId: text(),
  createdAt: createdAt(),
});

/** Destination of a delivery: a customer endpoint, or one of the integrations. */
export const deliveryTargets = ["endpoint", "resend_email", "mercury_invoice", "openai_call"] as const;
export type DeliveryTarget = (typeof deliveryTargets)[number];

/**
 * Lifecycle of a delivery: `pending` until an attempt succeeds or the last one fails. `skipped` means it
 * was not sent on purpose (an integration without credentials, a suppressed address); `cancelled` means
 * its endpoint was disabled first.
 */
export const deliveryStatuses = ["pending", "succeeded", "failed", "skipped", "cancelled"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const deliveries = pgTable(
  "deliveries",
  {
    id: text().primaryKey(),
    messageId: text()
      .notNull()
      .references(() => outboundMessages.id),
    target: text({ enum: deliveryTargets }).notNull(),
    endpointId: text().references(() => webhookEndpoints.id),
    status: text({ enum: deliveryStatuses }).notNull().default("pending"),
    /** Higher runs first: answering an incoming call cannot wait behind other deliveries. */
    priority: integer().notNull().default(0),
    /** Attempts in the current series; an admin's retry starts a new series at zero. */
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestampTz(),
    leaseOwner: text(),
    leaseExpiresAt: timestampTz(),
    lastStatusCode: integer(),
    lastError: text(),
    /** Reason a delivery was skipped, cancelled or failed for good. */
    statusReason: text(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
    completedAt: timestampTz(),
  },
  (table) => [
    uniqueIndex("deliveries_message_endpoint_unique")
      .on(table.messageId, table.endpointId)
      .where(sql`${table.endpointId} is not null`),
    // Claims read due deliveries in time order and stop after a batch; urgent ones have an index of their
    // own, so a large backlog never has to be sorted by priority.
    index("deliveries_due_idx").on(table.nextAttemptAt).where(sql`${table.status} = 'pending'`),
    index("deliveries_urgent_due_idx")
      .on(table.nextAttemptAt)
      .where(sql`${table.status} = 'pending' and ${table.priority} > 0`),
    // Retrying an endpoint's failed deliveries finds them here. Partial, so the deliveries on their way
    // (nearly all of them) cost this index nothing.
    index("deliveries_endpoint_failed_idx").on(table.endpointId).where(sql`${table.status} in ('failed', 'cancelled')`),
  ],
);

/** One HTTP attempt of a delivery: its outcome, or the network error. */
export const deliveryAttempts = pgTable(
  "delivery_attempts",
  {
    id: text().primaryKey(),
    deliveryId: text()
      .notNull()
      .references(() => deliveries.id),
    attemptNumber: integer().notNull(),
    startedAt: timestampTz().notNull(),
    durationMs: integer().notNull(),
    statusCode: integer(),
    /** The first 4 KiB of the response body. */
    responseBody: text(),
    error: text(),
  },
  (table) => [index("delivery_attempts_delivery_idx").on(table.deliveryId, table.startedAt)],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
export type OutboundMessage = typeof outboundMessages.$inferSelect;
