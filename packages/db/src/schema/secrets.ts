import { index, pgTable, text } from "drizzle-orm/pg-core";
import { bytea, createdAt, timestampTz } from "./columns";
import { eventSources } from "./events";

/** Signing secrets of the inbound sources, encrypted with AES-256-GCM. */
export const webhookSecrets = pgTable(
  "webhook_secrets",
  {
    id: text().primaryKey(),
    source: text({ enum: eventSources }).notNull(),
    /** 12-byte nonce, then the ciphertext with its 16-byte authentication tag. */
    ciphertext: bytea().notNull(),
    /** The first 12 hex digits of the secret's SHA-256, so an admin can tell secrets apart without seeing any part of them. */
    fingerprint: text().notNull(),
    createdAt: createdAt(),
    /** Set when the secret is rotated out: verification accepts it until then. */
    expiresAt: timestampTz(),
    revokedAt: timestampTz(),
  },
  (table) => [index("webhook_secrets_source_idx").on(table.source)],
);

export type WebhookSecret = typeof webhookSecrets.$inferSelect;
