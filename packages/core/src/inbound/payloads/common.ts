import { z } from "zod";

export const identifier = z.string().trim().min(1, { error: "must not be empty" }).max(256);

/** A decimal amount such as "499.00". Numbers are accepted and read as their decimal text. */
export const decimalAmount = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .pipe(z.string().regex(/^\d{1,14}(\.\d{1,18})?$/, { error: 'must be a decimal amount such as "499.00"' }));

/**
 * A provider timestamp: an ISO 8601 string, or a Unix time in seconds or milliseconds (distinguished by
 * size: values from 10^11 up are milliseconds, which is any date after 1973). Dates reach Postgres as
 * `toISOString()` text, which Postgres rejects for year 0 and for the six-digit years after 9999. So the
 * time must be in the year 0001 or later, and it must still be before 10000 two days later, because a
 * post-call follow-up is stored as due two days after the call ended.
 */
export const providerTime = z.union([z.string(), z.number()]).transform((value, context) => {
  const date = toDate(value);
  if (date === null) {
    context.addIssue({
      code: "custom",
      message:
        "must be an ISO 8601 time or a Unix time from 0001-01-01T00:00:00Z to 9999-12-29T23:59:59Z, " +
        "such as 2026-03-01T15:00:00Z",
    });
    return z.NEVER;
  }
  return date;
});

/** Maximum offset that an effect adds to a provider time before storing it: a post-call follow-up is due two days later. */
const providerTimeHeadroomMs = 2 * 24 * 3_600_000;
const earliestTime = Date.parse("0001-01-01T00:00:00Z");
const latestTime = Date.parse("9999-12-31T23:59:59.999Z") - providerTimeHeadroomMs;

function toDate(value: string | number): Date | null {
  let time: number;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      return null;
    }
    time = value >= 1e11 ? value : value * 1000;
  } else if (/^\d+$/.test(value)) {
    return toDate(Number(value));
  } else {
    time = Date.parse(value);
  }
  // Out-of-range numbers give NaN here too: new Date(1e20) is an invalid date, whose toISOString throws.
  if (Number.isNaN(time) || time < earliestTime || time > latestTime) {
    return null;
  }
  return new Date(time);
}

const timeZoneName = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * An IANA time zone name that this runtime supports, such as America/Denver, returned in its canonical
 * spelling: `america/denver` becomes `America/Denver`.
 */
export const ianaTimeZone = z.string().transform((value, context) => {
  const canonical = canonicalTimeZone(value);
  if (canonical === null) {
    context.addIssue({
      code: "custom",
      message: `${JSON.stringify(value.slice(0, 64))} is not an IANA time zone such as America/Denver`,
    });
    return z.NEVER;
  }
  return canonical;
});

function canonicalTimeZone(value: string): string | null {
  if (!timeZoneName.test(value)) {
    return null;
  }
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}
