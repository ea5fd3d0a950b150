import { sql } from "drizzle-orm";
import { customType } from "drizzle-orm/pg-core";

/** Raw bytes, kept exactly as received. The two drivers return Buffer or Uint8Array; both become Uint8Array. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return "bytea";
  },
  fromDriver(value) {
    return value instanceof Uint8Array ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : value;
  },
});

/**
 * `timestamp with time zone` as a Date. Unlike Drizzle's own timestamp column it accepts null through a
 * prepared statement's placeholder, which the hot insert of webhook events relies on.
 */
export const timestampTz = customType<{ data: Date; driverData: string | Date | null }>({
  dataType() {
    return "timestamp with time zone";
  },
  toDriver(value) {
    return value === null || value === undefined ? null : value.toISOString();
  },
  fromDriver(value) {
    return value instanceof Date ? value : new Date(value as string);
  },
});

export const createdAt = () => timestampTz().notNull().default(sql`now()`);
