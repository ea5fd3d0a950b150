/** Waits before each retry of a failed event: about 10 s, 1 min, 5 min, 30 min and 2 h. */
export const defaultRetryDelaysMs: readonly number[] = [10_000, 60_000, 300_000, 1_800_000, 7_200_000];

export interface WorkerSettings {
  /** Most events claimed by one query. */
  readonly batchSize: number;
  /** Events of a batch processed at the same time. */
  readonly concurrency: number;
  /** How long a claim lasts; another worker takes the event over once it expires. */
  readonly leaseMs: number;
  /** Longest wait between claims when nothing wakes the worker. */
  readonly pollIntervalMs: number;
  /** Delay before each retry; the event fails after `retryDelaysMs.length + 1` attempts. */
  readonly retryDelaysMs: readonly number[];
  /** Most events claimed at once, in one lane, while the same process is busy receiving. */
  readonly busyBatchSize: number;
  /** Pause after each batch while the same process is busy receiving. */
  readonly busyPauseMs: number;
}

export const defaultWorkerSettings: WorkerSettings = {
  batchSize: 32,
  concurrency: 4,
  leaseMs: 60_000,
  pollIntervalMs: 1_000,
  retryDelaysMs: defaultRetryDelaysMs,
  busyBatchSize: 16,
  busyPauseMs: 50,
};

/** Delay before the retry that follows attempt number `attempt` (1-based), with ±10 % jitter. */
export function retryDelayMs(delays: readonly number[], attempt: number, random: () => number = Math.random): number {
  const base = delays[Math.min(attempt, delays.length) - 1] ?? delays[delays.length - 1] ?? 0;
  return Math.round(base * (0.9 + 0.2 * random()));
}
