/**
 * SQLSTATEs that mean the database cannot take the work now: shutting down (57P01 to 57P04), a
 * read-only standby after a failover (25006), a missing database (3D000) or rejected credentials
 * (28000, 28P01). Classes 08 (connection) and 53 (insufficient resources) count as a whole.
 */
const unavailableSqlStates = new Set(["57P01", "57P02", "57P03", "57P04", "25006", "3D000", "28000", "28P01"]);
const unavailableSqlStateClasses = ["08", "53"];
const unavailableDriverCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/** Walks the `cause` chain: Drizzle wraps driver errors in an error whose message lists the query parameters. */
export function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) {
      return current;
    }
    current = cause;
  }
  return current;
}

function codeOf(error: unknown): string | undefined {
  const code = (rootCause(error) as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === "23505";
}

/**
 * True when Postgres rejected a value that a query sent (SQLSTATE class 22, data exception), such as
 * text with a NUL character (22021), a number out of range (22003) or a time it cannot represent (22008).
 */
export function isDataException(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && code.length === 5 && code.startsWith("22");
}

/** Returns true when a query failed because the database is unreachable, shutting down or out of resources. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (
    code !== undefined &&
    (unavailableDriverCodes.has(code) ||
      unavailableSqlStates.has(code) ||
      unavailableSqlStateClasses.some((prefix) => code.startsWith(prefix)))
  ) {
    return true;
  }
  const message = (rootCause(error) as { message?: unknown } | null)?.message;
  return typeof message === "string" && message.includes("PGlite is closed");
}

/**
 * Describes a database error without the query parameters, which can contain webhook bodies and
 * ciphertexts and so must never reach a log.
 */
export function describeDatabaseError(error: unknown): string {
  const cause = rootCause(error);
  if (cause instanceof Error) {
    const code = codeOf(cause);
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}
