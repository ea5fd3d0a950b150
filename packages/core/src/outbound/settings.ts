/** Waits before each retry of a failed delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const defaultDeliveryRetryDelaysMs: readonly number[] = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

/** Answering a call is useless after a few seconds, so call jobs retry quickly and briefly. */
export const callAnswerRetryDelaysMs: readonly number[] = [1_000, 2_000];

export interface DeliverySettings {
  /** Attempts in flight at once in one process. */
  readonly concurrency: number;
  /** How long a claim lasts; longer than an attempt's timeout, so one attempt at most is in flight. */
  readonly leaseMs: number;
  /** Maximum wait between claims when nothing wakes the worker. */
  readonly pollIntervalMs: number;
  readonly retryDelaysMs: readonly number[];
  /** Each delay varies by up to this fraction either way, so retries of many deliveries spread out. */
  readonly jitter: number;
  /** Shortest and longest wait a `Retry-After` header can set. */
  readonly retryAfterMinMs: number;
  readonly retryAfterMaxMs: number;
  /** An endpoint that has failed without a single success for this long is disabled. */
  readonly disableAfterFailingMs: number;
}

export const defaultDeliverySettings: DeliverySettings = {
  concurrency: 32,
  leaseMs: 60_000,
  pollIntervalMs: 1_000,
  retryDelaysMs: defaultDeliveryRetryDelaysMs,
  jitter: 0.2,
  retryAfterMinMs: 1_000,
  retryAfterMaxMs: 24 * 3_600_000,
  disableAfterFailingMs: 5 * 24 * 3_600_000,
};

/** Delay before the retry that follows attempt number `attempt` (1-based), with the configured jitter. */
export function deliveryRetryDelayMs(
  delays: readonly number[],
  attempt: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const base = delays[Math.min(attempt, delays.length) - 1] ?? delays[delays.length - 1] ?? 0;
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date. Returns the wait in milliseconds clamped
 * to the settings' limits, or null when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: Date, settings: DeliverySettings): number | null {
  if (value === null) {
    return null;
  }
  const text = value.trim();
  let waitMs: number;
  if (/^\d{1,10}$/.test(text)) {
    waitMs = Number(text) * 1000;
  } else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) {
      return null;
    }
    waitMs = date - now.getTime();
  }
  return Math.min(settings.retryAfterMaxMs, Math.max(settings.retryAfterMinMs, waitMs));
}
