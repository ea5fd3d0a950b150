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
    return value instanceof Date ? value : parsePostgresTimestamp(value as string);
  },
});

/** Postgres's text output of a timestamptz: `2026-03-01 12:00:00.123456+00`, an offset maybe with minutes and seconds. */
const postgresTimestamp =
  /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/;

/**
 * Reads Postgres's text output of a timestamptz. `new Date()` would read it as a non-standard string
 * and, in Bun, take a year below 100 for a two-digit one (0050 became 1950).
 */
function parsePostgresTimestamp(text: string): Date {
  const parts = postgresTimestamp.exec(text);
  if (parts === null) {
    return new Date(text);
  }
  const [, year, month, day, hours, minutes, seconds, fraction, sign, offsetHours, offsetMinutes, offsetSeconds, era] =
    parts;
  const utc = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years 0 to 99 as they are.
  utc.setUTCFullYear(era === undefined ? Number(year) : 1 - Number(year), Number(month) - 1, Number(day));
  utc.setUTCHours(Number(hours), Number(minutes), Number(seconds), Math.floor(Number(fraction ?? 0) * 1000));
  const offsetMs =
    (Number(offsetHours) * 3_600 + Number(offsetMinutes ?? 0) * 60 + Number(offsetSeconds ?? 0)) *
    1000 *
    (sign === "-" ? -1 : 1);
  return new Date(utc.getTime() - offsetMs);
}

export const createdAt = () => timestampTz().notNull().default(sql`now()`);
