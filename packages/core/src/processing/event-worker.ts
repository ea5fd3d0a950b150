import type { CoreContext } from "../context";
import { describeError } from "../errors";
import { newId } from "../ids";
import { InterruptibleSleep } from "../interruptible-sleep";
import { claimEvents, releaseEvents } from "./claim-events";
import { type ProcessOutcome, processEvents } from "./process-events";
import { defaultWorkerSettings, type WorkerSettings } from "./settings";

/** Wait after a claim fails (the database is down, say) before trying again. */
const claimFailureBackoffMs = 2_000;

export interface EventWorkerHooks {
  readonly onOutcome?: (outcome: ProcessOutcome) => void;
  /**
   * Tells whether this process is busy receiving. While it is, the worker processes small batches in one
   * lane and pauses between them, so acknowledgements keep their speed; the backlog drains afterwards.
   */
  readonly isReceivingBusy?: () => boolean;
}

/**
 * Claims due events and processes them until stopped. `wake()` starts a claim at once, so a new event
 * does not wait for the poll interval; the poll still finds retries and events stored by other
 * processes.
 */
export class EventWorker {
  readonly owner: string;
  readonly #ctx: CoreContext;
  readonly #settings: WorkerSettings;
  readonly #hooks: EventWorkerHooks;
  #running: Promise<void> | null = null;
  #stopping = false;
  #wakeRequested = false;
  readonly #sleeper = new InterruptibleSleep();

  constructor(ctx: CoreContext, settings: Partial<WorkerSettings> = {}, hooks: EventWorkerHooks = {}) {
    this.#ctx = ctx;
    this.#settings = { ...defaultWorkerSettings, ...settings };
    this.#hooks = hooks;
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
    this.#sleeper.interrupt();
  }

  /** Stops claiming, finishes events already started, and gives back claimed events not yet started. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#sleeper.interrupt();
    await this.#running;
    this.#running = null;
    this.#ctx.logger.info({ worker: this.owner }, "event worker stopped");
  }

  /** Claims one batch and processes it; returns how many events it claimed. */
  async runOnce(busy = false): Promise<number> {
    const claimed = await claimEvents(this.#ctx.db, {
      owner: this.owner,
      now: this.#ctx.clock.now(),
      leaseMs: this.#settings.leaseMs,
      limit: busy ? this.#settings.busyBatchSize : this.#settings.batchSize,
    });
    // Split the batch into one chunk per lane; each chunk is processed in one transaction.
    const lanes = busy ? 1 : this.#settings.concurrency;
    const chunkSize = Math.ceil(claimed.length / lanes);
    const chunks = Array.from({ length: Math.ceil(claimed.length / chunkSize) }, (_, index) =>
      claimed.slice(index * chunkSize, (index + 1) * chunkSize),
    );
    const unstarted: string[] = [];
    await Promise.all(
      chunks.map(async (events) => {
        if (this.#stopping) {
          unstarted.push(...events.map((event) => event.id));
          return;
        }
        const outcomes = await processEvents(this.#ctx, { events, owner: this.owner, settings: this.#settings });
        for (const outcome of outcomes) {
          this.#hooks.onOutcome?.(outcome);
        }
      }),
    );
    if (unstarted.length > 0) {
      await releaseEvents(this.#ctx.db, { owner: this.owner, ids: unstarted, now: this.#ctx.clock.now() });
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
      const busy = this.#hooks.isReceivingBusy?.() ?? false;
      let claimed = 0;
      try {
        claimed = await this.runOnce(busy);
      } catch (error) {
        this.#ctx.logger.error({ worker: this.owner, error: describeError(error) }, "claiming events failed");
        await this.#sleep(claimFailureBackoffMs);
        continue;
      }
      if (claimed > 0 && busy) {
        await this.#pause(this.#settings.busyPauseMs);
      } else if (claimed === 0 && !this.#wakeRequested) {
        await this.#sleep(this.#settings.pollIntervalMs);
      }
    }
  }

  /** Waits without reacting to wake(), which fires for every event while receiving is busy. */
  #pause(milliseconds: number): Promise<void> {
    return this.#stopping ? Promise.resolve() : Bun.sleep(milliseconds);
  }

  #sleep(milliseconds: number): Promise<void> {
    return this.#stopping ? Promise.resolve() : this.#sleeper.sleep(milliseconds);
  }
}
