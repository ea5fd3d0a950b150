import {
  type Database,
  type EventInserter,
  type EventRow,
  type EventStatus,
  type InsertedEvent,
  isDatabaseUnavailable,
  webhookEvents,
} from "@basalt/db";
import { and, eq, sql } from "drizzle-orm";

export interface StoredEvent {
  readonly id: string;
  readonly status: EventStatus;
  readonly eventType: string | null;
  readonly statusReason: string | null;
  /** True when the source had already delivered an event with this key: nothing new was written. */
  readonly duplicate: boolean;
}

const storedColumns = {
  id: webhookEvents.id,
  status: webhookEvents.status,
  eventType: webhookEvents.eventType,
  statusReason: webhookEvents.statusReason,
};

interface QueuedEvent {
  readonly row: EventRow;
  readonly resolve: (stored: StoredEvent) => void;
  readonly reject: (error: unknown) => void;
}

export interface EventWriterOptions {
  /** Most events written by one INSERT. */
  readonly maxBatchSize?: number;
  /** Most INSERTs in flight at once; further events wait and join the next batch. */
  readonly maxConcurrentBatches?: number;
  /** Events per 100 ms from which the writer reports itself busy. */
  readonly busyEventsPer100Ms?: number;
}

/**
 * Stores received events durably, grouping events that arrive together into one multi-row INSERT (a
 * group commit). Each caller's promise resolves only after the statement holding its row committed, so
 * an acknowledgement still follows a durable write; grouping saves a statement and a commit per event.
 * The unique (source, idempotency key) index decides duplicates, also between two copies that arrive
 * at the same instant: the later insert waits for the earlier one to commit, then finds its row.
 */
export class EventWriter {
  readonly #insert: EventInserter;
  readonly #maxBatchSize: number;
  readonly #maxConcurrentBatches: number;
  readonly #queue: QueuedEvent[] = [];
  readonly #findExisting;
  readonly #busyThreshold: number;
  #inFlight = 0;
  #scheduled = false;
  #windowStartedAt = 0;
  #windowCount = 0;
  #previousWindowCount = 0;

  constructor(db: Database, insert: EventInserter, options: EventWriterOptions = {}) {
    this.#insert = insert;
    this.#maxBatchSize = options.maxBatchSize ?? 100;
    this.#maxConcurrentBatches = options.maxConcurrentBatches ?? 4;
    this.#busyThreshold = options.busyEventsPer100Ms ?? 20;
    this.#findExisting = db
      .select(storedColumns)
      .from(webhookEvents)
      .where(
        and(
          eq(webhookEvents.source, sql.placeholder("source")),
          eq(webhookEvents.idempotencyKey, sql.placeholder("idempotencyKey")),
        ),
      )
      .prepare("event_writer_find_existing");
  }

  /**
   * True while events arrive faster than the busy threshold (200 per second by default) or wait for a
   * batch. Workers in this process slow down then, because acknowledging providers comes first.
   */
  get busy(): boolean {
    this.#rollWindow(performance.now());
    return this.#queue.length > 0 || Math.max(this.#windowCount, this.#previousWindowCount) >= this.#busyThreshold;
  }

  /** Stores one event, or finds the stored event with the same source and idempotency key. */
  store(row: EventRow): Promise<StoredEvent> {
    this.#rollWindow(performance.now());
    this.#windowCount++;
    return new Promise((resolve, reject) => {
      this.#queue.push({ row, resolve, reject });
      this.#schedule();
    });
  }

  /** Counts arrivals in 100 ms windows; the current and the previous window decide `busy`. */
  #rollWindow(now: number): void {
    if (now - this.#windowStartedAt < 100) {
      return;
    }
    this.#previousWindowCount = now - this.#windowStartedAt < 200 ? this.#windowCount : 0;
    this.#windowCount = 0;
    this.#windowStartedAt = now;
  }

  /** Starts batches on the next turn of the event loop, so requests that arrive together share one. */
  #schedule(): void {
    if (this.#scheduled) {
      return;
    }
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#startBatches();
    });
  }

  #startBatches(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#maxConcurrentBatches) {
      const batch = this.#queue.splice(0, this.#maxBatchSize);
      this.#inFlight++;
      void this.#write(batch).finally(() => {
        this.#inFlight--;
        this.#startBatches();
      });
    }
  }

  async #write(batch: QueuedEvent[]): Promise<void> {
    let inserted: InsertedEvent[];
    try {
      inserted = await this.#insert(batch.map((queued) => queued.row));
    } catch (error) {
      if (batch.length > 1 && !isDatabaseUnavailable(error)) {
        // One row failed the whole statement; write each alone so only that row's caller sees the error.
        await Promise.all(batch.map((queued) => this.#write([queued])));
        return;
      }
      for (const queued of batch) {
        queued.reject(error);
      }
      return;
    }

    const created = new Map(inserted.map((row) => [row.id, row]));
    await Promise.all(
      batch.map(async (queued) => {
        const row = created.get(queued.row.id);
        if (row) {
          queued.resolve({ ...row, duplicate: false });
          return;
        }
        try {
          queued.resolve(await this.#findDuplicate(queued.row));
        } catch (error) {
          queued.reject(error);
        }
      }),
    );
  }

  async #findDuplicate(row: EventRow): Promise<StoredEvent> {
    const [existing] = await this.#findExisting.execute({ source: row.source, idempotencyKey: row.idempotencyKey });
    if (!existing) {
      // Rows are never deleted while the service runs, so a conflict without a row means the unique
      // index is missing: a bug, not a provider's fault.
      throw new Error(`event ${row.source}/${row.idempotencyKey} conflicted but no stored row was found`);
    }
    return { ...existing, duplicate: true };
  }
}
