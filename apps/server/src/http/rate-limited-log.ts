import type { Logger } from "pino";

/**
 * Logs a repeating warning at most once per interval per key, with the number of repeats it held
 * back, so a flood of forged requests cannot flood the log.
 */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #entries = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(logger: Logger, intervalMs = 10_000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const entry = this.#entries.get(key);
    if (entry && now - entry.loggedAt < this.#intervalMs) {
      entry.suppressed++;
      return;
    }
    this.#logger.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, message);
    this.#entries.set(key, { loggedAt: now, suppressed: 0 });
  }
}
