import { z } from "zod";

export const identifier = z.string().trim().min(1, { error: "must not be empty" }).max(256);

/** A decimal amount such as "499.00". Numbers are accepted and read as their decimal text. */
export const decimalAmount = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .pipe(z.string().regex(/^\d{1,14}(\.\d{1,18})?$/, { error: 'must be a decimal amount such as "499.00"' }));

/**
 * A provider timestamp: an ISO 8601 string, or a Unix time in seconds or milliseconds (told apart by
 * size: values from 10^11 up are milliseconds, which is any date after 1973).
 */
export const providerTime = z.union([z.string(), z.number()]).transform((value, context) => {
  const date = toDate(value);
  if (date === null) {
    context.addIssue({ code: "custom", message: "must be an ISO 8601 time or a Unix time" });
    return z.NEVER;
  }
  return date;
});

function toDate(value: string | number): Date | null {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      return null;
    }
    return new Date(value >= 1e11 ? value : value * 1000);
  }
  if (/^\d+$/.test(value)) {
    return toDate(Number(value));
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : new Date(parsed);
}

const timeZoneName = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** An IANA time zone name that this runtime knows, such as America/Denver. */
export const ianaTimeZone = z.string().refine(
  (value) => {
    if (!timeZoneName.test(value)) {
      return false;
    }
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { error: (issue) => `${JSON.stringify(issue.input)} is not an IANA time zone such as America/Denver` },
);
