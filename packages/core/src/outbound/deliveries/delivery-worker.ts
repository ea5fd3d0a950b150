import type { DeliveryTarget } from "@basalt/db";
import { describeError } from "../../errors";
import { newId } from "../../ids";
import { InterruptibleSleep } from "../../interruptible-sleep";
import type { OutboundContext } from "../context";
import { deliveryExecutors } from "../executors";
import type { DeliveryExecutor, ExecutorResult } from "../executors/executor";
import { type ClaimedDelivery, claimDeliveries, releaseDeliveries } from "./claim-deliveries";
import { type DeliveryOutcome, recordOutcome } from "./record-outcome";
import { SuccessRecorder } from "./success-recorder";

/** Claims running at once; each takes disjoint deliveries thanks to SKIP LOCKED. */
const maxClaimsInFlight = 2;
/** Largest claim, in deliveries per slot of concurrency. */
const claimBatchesPerSlot = 8;

/** A claimed delivery waiting for a free slot, and the latest time it may start within its lease. */
interface BufferedDelivery {
  readonly job: ClaimedDelivery;
  readonly startByMs: number;
}

/** Successes waiting for their batch record beyond which a slot waits too, so the backlog stays bounded. */
const maxUnrecordedSuccesses = 2_000;

function fieldsOf(job: ClaimedDelivery): Record<string, unknown> {
  return {
    delivery_id: job.delivery.id,
    target: job.delivery.target,
    endpoint_id: job.delivery.endpointId,
    message_id: job.message.id,
    event_type: job.message.eventType,
    attempts: job.delivery.attempts,
  };
}

/** Wait after a failed claim (the database is down, say) before trying again. */
const claimFailureBackoffMs = 2_000;

export interface DeliveryWorkerHooks {
  readonly onOutcome?: (outcome: DeliveryOutcome, target: DeliveryTarget) => void;
}

/**
 * Sends due deliveries until stopped, keeping up to `concurrency` attempts in flight. Each attempt runs on
 * its own, so a slow receiver holds one slot for at most its timeout and never blocks the others.
 * Claims are large and buffered, so a slot that frees up starts the next delivery without waiting for
 * a query. `wake()` claims at once, so a new delivery does not wait for the poll interval.
 */
export class DeliveryWorker {
  readonly owner: string;
  readonly #ctx: OutboundContext;
  readonly #executors: Readonly<Record<DeliveryTarget, DeliveryExecutor>>;
  readonly #hooks: DeliveryWorkerHooks;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #successes: SuccessRecorder;
  /** Successes whose record is still being written. */
  readonly #recording = new Set<Promise<void>>();
  /** Stale buffered deliveries being handed back. */
  readonly #releasing = new Set<Promise<void>>();
  #buffer: BufferedDelivery[] = [];
  /** Size of the next claim. It halves when buffered deliveries wait too long for a slot. */
  #claimSize: number;
  #running: Promise<void> | null = null;
  #stopping = false;
  #wakeRequested = false;
  readonly #sleeper = new InterruptibleSleep();

  constructor(
    ctx: OutboundContext,
    hooks: DeliveryWorkerHooks = {},
    executors: Readonly<Record<DeliveryTarget, DeliveryExecutor>> = deliveryExecutors,
  ) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.#executors = executors;
    this.owner = newId("dwk");
    this.#successes = new SuccessRecorder(ctx, this.owner);
    this.#claimSize = ctx.deliverySettings.concurrency * claimBatchesPerSlot;
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

  /** Claims at once, because new deliveries were queued. */
  wake(): void {
    this.#wakeRequested = true;
    this.#sleeper.interrupt();
  }

  /** Lets the loop start buffered deliveries after an attempt or a claim finished. */
  #signal(): void {
    this.#sleeper.signal();
  }

  /** Stops claiming, waits for the attempts in flight (they end within their timeout), and hands back the rest. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#sleeper.interrupt();
    await this.#running;
    await Promise.all(this.#inFlight);
    await Promise.all(this.#recording);
    await Promise.all(this.#releasing);
    const unstarted = this.#buffer.map(({ job }) => job.delivery.id);
    this.#buffer = [];
    await releaseDeliveries(this.#ctx.db, { owner: this.owner, ids: unstarted }).catch((error: unknown) => {
      this.#ctx.logger.warn(
        { worker: this.owner, error: describeError(error) },
        "handing back claimed deliveries failed",
      );
    });
    this.#running = null;
    this.#ctx.logger.info({ worker: this.owner }, "delivery worker stopped");
  }

  /** Claims every due delivery that fits the concurrency and waits for their attempts; returns how many. */
  async runOnce(): Promise<number> {
    const jobs = await this.#claim(this.#ctx.deliverySettings.concurrency);
    await Promise.all(jobs.map((job) => this.#attempt(job)));
    await Promise.all(this.#recording);
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
    const { concurrency, pollIntervalMs } = this.#ctx.deliverySettings;
    const claims = new Set<Promise<void>>();
    // Deliveries asked for by claims in flight, so the buffer is not over-filled.
    let requested = 0;
    // True when the last claim found fewer deliveries than it asked for: the queue is empty for now.
    let drained = false;
    let lastClaimAt = Number.NEGATIVE_INFINITY;
    while (!this.#stopping) {
      const pollDue = performance.now() - lastClaimAt >= pollIntervalMs;
      // A claim costs a commit whatever its size, so claims are large, and two may overlap: slots keep
      // filling from the buffer while one is in flight.
      const claimSize = this.#claimSize;
      const short = this.#buffer.length + requested < claimSize * maxClaimsInFlight;
      if (claims.size < maxClaimsInFlight && short && (!drained || this.#wakeRequested || pollDue)) {
        this.#wakeRequested = false;
        lastClaimAt = performance.now();
        requested += claimSize;
        const claim: Promise<void> = this.#refill(claimSize).then((claimed) => {
          requested -= claimSize;
          drained = claimed < claimSize;
          if (claimed === claimSize) {
            this.#claimSize = Math.min(this.#claimSize + concurrency, concurrency * claimBatchesPerSlot);
          }
          claims.delete(claim);
          this.#signal();
        });
        claims.add(claim);
        continue;
      }
      this.#releaseStale();
      while (this.#inFlight.size < concurrency && this.#buffer.length > 0 && !this.#stopping) {
        const buffered = this.#buffer.shift();
        if (buffered) {
          const attempt: Promise<void> = this.#attempt(buffered.job).finally(() => {
            this.#inFlight.delete(attempt);
            this.#signal();
          });
          this.#inFlight.add(attempt);
        }
      }
      await this.#sleep(pollIntervalMs);
    }
    await Promise.all(claims);
  }

  /** Claims into the buffer and returns how many it claimed; a failure is logged and paused on, and counts as none. */
  async #refill(limit: number): Promise<number> {
    try {
      const claimedAt = this.#ctx.clock.now();
      const jobs = await this.#claim(limit, claimedAt);
      if (this.#stopping) {
        await releaseDeliveries(this.#ctx.db, {
          owner: this.owner,
          ids: jobs.map((job) => job.delivery.id),
        });
        return 0;
      }
      // An attempt that starts later could outlast the lease, and another worker could then send it too.
      const { leaseMs } = this.#ctx.deliverySettings;
      const startByMs = claimedAt.getTime() + Math.max(leaseMs - 2 * this.#ctx.http.timeoutMs, 0);
      for (const job of jobs) {
        this.#buffer.push({ job, startByMs });
      }
      return jobs.length;
    } catch (error) {
      this.#ctx.logger.error({ worker: this.owner, error: describeError(error) }, "claiming deliveries failed");
      await Bun.sleep(claimFailureBackoffMs);
      return 0;
    }
  }

  /**
   * Hands back the buffered deliveries that waited too long to start within their leases, when slow
   * receivers hold the slots, and makes later claims smaller. They are due again at once.
   */
  #releaseStale(): void {
    const nowMs = this.#ctx.clock.now().getTime();
    // The buffer is in claim order, so the stale deliveries are at its head.
    const firstFresh = this.#buffer.findIndex((buffered) => buffered.startByMs >= nowMs);
    const staleCount = firstFresh === -1 ? this.#buffer.length : firstFresh;
    if (staleCount === 0) {
      return;
    }
    const stale = this.#buffer.splice(0, staleCount).map(({ job }) => job.delivery.id);
    const { concurrency } = this.#ctx.deliverySettings;
    this.#claimSize = Math.max(Math.floor(this.#claimSize / 2), concurrency);
    const release: Promise<void> = releaseDeliveries(this.#ctx.db, { owner: this.owner, ids: stale })
      .catch((error: unknown) => {
        this.#ctx.logger.warn(
          { worker: this.owner, error: describeError(error) },
          "handing back deliveries that waited too long failed; they are due again when their leases expire",
        );
      })
      .finally(() => {
        this.#releasing.delete(release);
        // They are due now, for a free slot here or in another worker.
        this.wake();
      });
    this.#releasing.add(release);
  }

  #claim(limit: number, now = this.#ctx.clock.now()): Promise<ClaimedDelivery[]> {
    return claimDeliveries(this.#ctx.db, {
      owner: this.owner,
      now,
      leaseMs: this.#ctx.deliverySettings.leaseMs,
      limit,
    });
  }

  /**
   * Makes one attempt and records it; an error while recording leaves the lease to expire and retry. A
   * success of a customer delivery is recorded in a batch after the slot is free again: the lease keeps
   * the delivery from being sent twice meanwhile, and `stop()` waits for those records.
   */
  async #attempt(job: ClaimedDelivery): Promise<void> {
    const executor = this.#executors[job.delivery.target];
    let result: ExecutorResult;
    try {
      result = await executor.send(this.#ctx, job);
    } catch (error) {
      result = { kind: "failed", attempt: null, error: describeError(error) };
    }
    if (result.kind === "succeeded" && job.delivery.target === "endpoint" && result.attempt !== null) {
      const succeeded = result;
      const recording: Promise<void> = this.#successes
        .record(job, result.attempt)
        .then((recorded) => this.#finish(job, recorded ? "succeeded" : "lease_lost", succeeded))
        .catch((error: unknown) => this.#recordingFailed(job, error))
        .finally(() => this.#recording.delete(recording));
      this.#recording.add(recording);
      if (this.#recording.size >= maxUnrecordedSuccesses) {
        await recording;
      }
      return;
    }
    try {
      this.#finish(job, await recordOutcome(this.#ctx, job, this.owner, executor, result), result);
    } catch (error) {
      this.#recordingFailed(job, error);
    }
  }

  #finish(job: ClaimedDelivery, outcome: DeliveryOutcome, result: ExecutorResult): void {
    this.#hooks.onOutcome?.(outcome, job.delivery.target);
    this.#log(outcome, result, fieldsOf(job));
  }

  #recordingFailed(job: ClaimedDelivery, error: unknown): void {
    this.#ctx.logger.error({ ...fieldsOf(job), error: describeError(error) }, "recording a delivery attempt failed");
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
      // At volume, a line per success would be most of the log; the attempt log and the
      // basalt_deliveries_total counter record each one.
      this.#ctx.logger.debug(detail, "delivery succeeded");
    } else if (outcome === "failed") {
      this.#ctx.logger.error(detail, "delivery failed after its last attempt");
    } else {
      this.#ctx.logger.warn(detail, `delivery ${outcome.replace("_", " ")}`);
    }
  }

  #sleep(milliseconds: number): Promise<void> {
    // A wake while a claim cannot start (one is in flight, or the buffer is full) only interrupts, so the
    // loop does not spin: the claim's end or a finished attempt signals, which a busy loop does not miss.
    return this.#stopping ? Promise.resolve() : this.#sleeper.sleep(milliseconds);
  }
}
