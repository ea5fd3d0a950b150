import type { DeliveryTarget } from "@basalt/db";
import { describeError } from "../../errors";
import { newId } from "../../ids";
import type { OutboundContext } from "../context";
import { deliveryExecutors } from "../executors";
import type { DeliveryExecutor, ExecutorResult } from "../executors/executor";
import { type ClaimedDelivery, claimDeliveries } from "./claim-deliveries";
import { type DeliveryOutcome, recordOutcome } from "./record-outcome";

/** Wait after a failed claim (the database is down, say) before trying again. */
const claimFailureBackoffMs = 2_000;

export interface DeliveryWorkerHooks {
  readonly onOutcome?: (outcome: DeliveryOutcome, target: DeliveryTarget) => void;
}

/**
 * Sends due deliveries until stopped, keeping up to `concurrency` attempts in flight. Each attempt runs on
 * its own, so a slow receiver holds one slot for at most its timeout and never blocks the others.
 * `wake()` claims at once, so a new delivery does not wait for the poll interval.
 */
export class DeliveryWorker {
  readonly owner: string;
  readonly #ctx: OutboundContext;
  readonly #executors: Readonly<Record<DeliveryTarget, DeliveryExecutor>>;
  readonly #hooks: DeliveryWorkerHooks;
  readonly #inFlight = new Set<Promise<void>>();
  #running: Promise<void> | null = null;
  #stopping = false;
  #wakeRequested = false;
  #wakeUp: (() => void) | null = null;

  constructor(
    ctx: OutboundContext,
    hooks: DeliveryWorkerHooks = {},
    executors: Readonly<Record<DeliveryTarget, DeliveryExecutor>> = deliveryExecutors,
  ) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.#executors = executors;
    this.owner = newId("dwk");
  }

  start(): void {
    if (this.#running) {
      return;
    }
    this.#stopping = false;
    this.#running = this.#loop();
    this.#ctx.logger.info(
      { worker: this.owner, concurrency: this.#ctx.deliverySettings.concurrency },
      "delivery worker started",
    );
  }

  wake(): void {
    this.#wakeRequested = true;
    this.#wakeUp?.();
  }

  /** Stops claiming and waits for the attempts in flight, which end within their timeout. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeUp?.();
    await this.#running;
    await Promise.all(this.#inFlight);
    this.#running = null;
    this.#ctx.logger.info({ worker: this.owner }, "delivery worker stopped");
  }

  /** Claims every due delivery that fits the concurrency and waits for their attempts; returns how many. */
  async runOnce(): Promise<number> {
    const jobs = await this.#claim(this.#ctx.deliverySettings.concurrency);
    await Promise.all(jobs.map((job) => this.#attempt(job)));
    return jobs.length;
  }

  /** Sends until no delivery is due; for tests and one-off commands. */
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
      const free = this.#ctx.deliverySettings.concurrency - this.#inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const jobs = await this.#claim(free);
          claimed = jobs.length;
          for (const job of jobs) {
            const attempt: Promise<void> = this.#attempt(job).finally(() => {
              this.#inFlight.delete(attempt);
              this.wake();
            });
            this.#inFlight.add(attempt);
          }
        } catch (error) {
          this.#ctx.logger.error({ worker: this.owner, error: describeError(error) }, "claiming deliveries failed");
          await this.#sleep(claimFailureBackoffMs);
          continue;
        }
      }
      if ((claimed === 0 || this.#inFlight.size >= this.#ctx.deliverySettings.concurrency) && !this.#wakeRequested) {
        await this.#sleep(this.#ctx.deliverySettings.pollIntervalMs);
      }
    }
  }

  #claim(limit: number): Promise<ClaimedDelivery[]> {
    return claimDeliveries(this.#ctx.db, {
      owner: this.owner,
      now: this.#ctx.clock.now(),
      leaseMs: this.#ctx.deliverySettings.leaseMs,
      limit,
    });
  }

  /** Makes one attempt and records it; an error while recording leaves the lease to expire and retry. */
  async #attempt(job: ClaimedDelivery): Promise<void> {
    const executor = this.#executors[job.delivery.target];
    const fields = {
      delivery_id: job.delivery.id,
      target: job.delivery.target,
      endpoint_id: job.delivery.endpointId,
      message_id: job.message.id,
      event_type: job.message.eventType,
      attempts: job.delivery.attempts,
    };
    try {
      let result: ExecutorResult;
      try {
        result = await executor.send(this.#ctx, job);
      } catch (error) {
        result = { kind: "failed", attempt: null, error: describeError(error) };
      }
      const outcome = await recordOutcome(this.#ctx, job, this.owner, executor, result);
      this.#hooks.onOutcome?.(outcome, job.delivery.target);
      this.#log(outcome, result, fields);
    } catch (error) {
      this.#ctx.logger.error({ ...fields, error: describeError(error) }, "recording a delivery attempt failed");
    }
  }

  #log(outcome: DeliveryOutcome, result: ExecutorResult, fields: Record<string, unknown>): void {
    const detail = {
      ...fields,
      outcome,
      status_code: "attempt" in result ? (result.attempt?.statusCode ?? undefined) : undefined,
      duration_ms: "attempt" in result ? (result.attempt?.durationMs ?? undefined) : undefined,
      error: result.kind === "failed" ? result.error : undefined,
      reason: result.kind === "skipped" || result.kind === "cancelled" ? result.reason : undefined,
    };
    if (outcome === "succeeded") {
      this.#ctx.logger.info(detail, "delivery succeeded");
    } else if (outcome === "failed") {
      this.#ctx.logger.error(detail, "delivery failed after its last attempt");
    } else {
      this.#ctx.logger.warn(detail, `delivery ${outcome.replace("_", " ")}`);
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
