import { describeDatabaseError, isDatabaseUnavailable } from "@basalt/db";

/** Base of the errors that core raises on purpose. `code` is stable and maps to a transport status. */
export abstract class CoreError extends Error {
  abstract readonly code: string;
}

/** A record that an event or a request refers to does not exist (yet). */
export class NotFoundError extends CoreError {
  readonly code = "not_found";
  override readonly name = "NotFoundError";
}

/** The request contradicts stored state, such as a payment whose amount differs from its invoice. */
export class ConflictError extends CoreError {
  readonly code = "conflict";
  override readonly name = "ConflictError";
}

export class InvalidInputError extends CoreError {
  readonly code = "invalid_input";
  override readonly name = "InvalidInputError";
}

/** Input that fails validation field by field; `fieldErrors` maps each field name to its problem. */
export class FieldValidationError extends InvalidInputError {
  readonly fieldErrors: Readonly<Record<string, string>>;

  constructor(fieldErrors: Record<string, string>) {
    super(
      Object.entries(fieldErrors)
        .map(([field, problem]) => `${field}: ${problem}`)
        .join("; "),
    );
    this.fieldErrors = fieldErrors;
  }
}

/** Too many requests from one client; `retryAfterSeconds` is the wait until the next one is allowed. */
export class RateLimitedError extends CoreError {
  readonly code = "rate_limited";
  override readonly name = "RateLimitedError";
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Configuration that cannot work, found at startup or when a setting is saved. */
export class ConfigurationError extends CoreError {
  readonly code = "configuration_error";
  override readonly name = "ConfigurationError";
}

/**
 * Describes any error in one line for logs and the stored `last_error`, never including query
 * parameters, which can hold webhook bodies.
 */
export function describeError(error: unknown): string {
  if (error instanceof CoreError) {
    return error.message;
  }
  if (isDatabaseUnavailable(error)) {
    return `database unavailable: ${describeDatabaseError(error)}`;
  }
  if (error instanceof Error && (error.name === "DrizzleQueryError" || error.cause !== undefined)) {
    return describeDatabaseError(error);
  }
  if (error instanceof Error) {
    return `${error.name}: ${error.message}`;
  }
  return String(error);
}
