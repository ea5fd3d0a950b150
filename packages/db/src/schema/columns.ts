import { customType, timestamp } from "drizzle-orm/pg-core";

/** Raw bytes, kept exactly as received. The two drivers return Buffer or Uint8Array; both become Uint8Array. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return "bytea";
  },
  fromDriver(value) {
    return value instanceof Uint8Array ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : value;
  },
});

export const timestampTz = () => timestamp({ withTimezone: true, mode: "date" });

export const createdAt = () => timestampTz().notNull().defaultNow();
