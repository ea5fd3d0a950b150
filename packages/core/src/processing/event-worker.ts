import type { CoreContext } from "../context";
import { describeError } from "../errors";
import { newId } from "../ids";
import { claimEvents, releaseEvents } from "./claim-events";
import { type ProcessOutcome, processEvent } from "./process-event";
import { defaultWorkerSettings, type WorkerSettings } from "./settings";

/** Wait after a claim fails (the database is down, say) before trying again. */
const claimFailureBackoffMs = 2_000;

/**
 * Claims due events and processes them until stopped. `wake()` starts a claim at once, so a new event
 * does not wait for the poll interval; the poll still finds retries and events stored by other
 * processes.
 */
export class EventWorker {
  readonly owner: string;
  readonly #ctx: CoreContext;
  readonly #settings: WorkerSettings;
  readonly #onOutcome: ((outcome: ProcessOutcome) => void) | undefined;
  #running: Promise<void> | null = null;
  #stopping = false;
  #wakeRequested = false;
  #wakeUp: (() => void) | null = null;

  constructor(
    ctx: CoreContext,
    settings: Partial<WorkerSettings> = {},
    hooks: { onOutcome?: (outcome: ProcessOutcome) => void } = {},
  ) {
    this.#ctx = ctx;
    this.#settings = { ...defaultWorkerSettings, ...settings };
    this.#onOutcome = hooks.onOutcome;
    this.owner = newId("wrk");
  }

  start(): void {
    if (this.#running) {
      return;
    }
    this.#stopping = false;
    this.#running = this.#loop();
    this.#ctx.logger.info({ worker: this.owner, concurrency: this.#settings.concurrency }, "event worker started");
  }

  /** Asks for a claim now; wakes a waiting loop, or makes a busy one claim again before it waits. */
  wake(): void {
    this.#wakeRequested = true;
    this.#wakeUp?.();
  }

  /** Stops claiming, finishes events already started, and gives back claimed events not yet started. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeUp?.();
    await this.#running;
    this.#running = null;
    this.#ctx.logger.info({ worker: this.owner }, "event worker stopped");
  }

  /** Claims one batch and processes it; returns how many events it claimed. */
  async runOnce(): Promise<number> {
    const claimed = await claimEvents(this.#ctx.db, {
      owner: this.owner,
      now: this.#ctx.clock.now(),
      leaseMs: this.#settings.leaseMs,
      limit: this.#settings.batchSize,
    });
    const queue = claimed.map((event) => event.id);
    const lane = async () => {
      for (let id = queue.shift(); id !== undefined && !this.#stopping; id = queue.shift()) {
        const outcome = await processEvent(this.#ctx, { id, owner: this.owner, settings: this.#settings });
        this.#onOutcome?.(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#settings.concurrency, queue.length) }, lane));
    if (queue.length > 0) {
      await releaseEvents(this.#ctx.db, { owner: this.owner, ids: queue });
    }
    return claimed.length;
  }

  /** Processes until no event is due; for tests and one-off commands. */
  async drain(): Promise<number> {
    let total = 0;
    for (let claimed = await this.runOnce(); claimed > 0; claimed = await this.runOnce()) {
      total += claimed;
    }
    return total;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      this.#wakeRequested = false;
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (error) {
        this.#ctx.logger.error({ worker: this.owner, error: describeError(error) }, "claiming events failed");
        await this.#sleep(claimFailureBackoffMs);
        continue;
      }
      if (claimed === 0 && !this.#wakeRequested) {
        await this.#sleep(this.#settings.pollIntervalMs);
      }
    }
  }

  #sleep(milliseconds: number): Promise<void> {
    if (this.#stopping) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#wakeUp = null;
        resolve();
      };
      const timer = setTimeout(finish, milliseconds);
      this.#wakeUp = finish;
    });
  }
}
