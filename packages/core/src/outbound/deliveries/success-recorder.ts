import { recordSuccessesWithDrizzle, type SuccessWriter } from "@basalt/db";
import { newId } from "../../ids";
import type { OutboundContext } from "../context";
import type { AttemptRecord } from "../executors/executor";
import type { ClaimedDelivery } from "./claim-deliveries";

interface QueuedSuccess {
  readonly job: ClaimedDelivery;
  readonly attempt: AttemptRecord;
  readonly resolve: (recorded: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** Most successes written by one batch. */
const maxBatchSize = 500;
/** Batches written at once, each on its own connection. */
const maxLanes = 2;

/**
 * Records successful customer deliveries in batches, each in one transaction: the attempt log rows, the
 * deliveries marked succeeded, and the end of their endpoints' runs of failures. Successes are the
 * common case, and a transaction per success would cost a commit each, more than the HTTP request.
 * Until its batch commits, a delivery keeps its lease, so it is not sent again meanwhile. After a crash
 * it is sent again when the lease expires, so delivery is at least once and every attempt is logged.
 */
export class SuccessRecorder {
  readonly #owner: string;
  readonly #clock: OutboundContext["clock"];
  readonly #write: SuccessWriter;
  readonly #queue: QueuedSuccess[] = [];
  #lanes = 0;

  constructor(ctx: OutboundContext, owner: string) {
    this.#owner = owner;
    this.#clock = ctx.clock;
    this.#write = ctx.recordSuccesses ?? ((batch) => recordSuccessesWithDrizzle(ctx.db, batch));
  }

  /** Resolves true once recorded, or false if another worker took the delivery over meanwhile. */
  record(job: ClaimedDelivery, attempt: AttemptRecord): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, attempt, resolve, reject });
      if (this.#lanes < maxLanes) {
        this.#lanes++;
        void this.#drain().finally(() => {
          this.#lanes--;
        });
      }
    });
  }

  /** Writes batches until the queue is empty; up to `maxLanes` of these run at once. */
  async #drain(): Promise<void> {
    // Wait a turn so successes that finish together share a batch.
    await new Promise((resolve) => setImmediate(resolve));
    for (
      let batch = this.#queue.splice(0, maxBatchSize);
      batch.length > 0;
      batch = this.#queue.splice(0, maxBatchSize)
    ) {
      try {
        const marked = await this.#write({
          owner: this.#owner,
          now: this.#clock.now(),
          successes: batch.map(({ job, attempt }) => ({
            deliveryId: job.delivery.id,
            attempt: {
              id: newId("att"),
              deliveryId: job.delivery.id,
              attemptNumber: job.delivery.attempts,
              startedAt: attempt.startedAt,
              durationMs: attempt.durationMs,
              statusCode: attempt.statusCode,
              responseBody: attempt.responseBody,
              error: null,
            },
          })),
          endpointIds: [...new Set(batch.flatMap(({ job }) => (job.endpoint ? [job.endpoint.id] : [])))],
        });
        for (const queued of batch) {
          queued.resolve(marked.has(queued.job.delivery.id));
        }
      } catch (error) {
        for (const queued of batch) {
          queued.reject(error);
        }
      }
    }
  }
}
