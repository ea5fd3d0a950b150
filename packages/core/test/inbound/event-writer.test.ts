import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createEventInserter, type EventInserter, type EventRow, webhookEvents } from "@basalt/db";
import { count, inArray } from "drizzle-orm";
import { EventWriter, newId } from "../../src";
import { createTestContext, readEvent, type TestContext } from "../support";

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
}, 60_000);

afterAll(async () => {
  await ctx.database.destroy();
});

/** Builds a pending basaltecho event row with a new idempotency key unless `overrides` sets one. */
function eventRow(overrides: Partial<EventRow> = {}): EventRow {
  const receivedAt = ctx.clock.now();
  return {
    id: newId("evt"),
    source: "basaltecho",
    idempotencyKey: `event:${crypto.randomUUID()}`,
    eventType: "call_connected",
    status: "pending",
    body: new TextEncoder().encode('{"type":"call_connected","leadId":"lead_1"}'),
    contentType: "application/json",
    headers: {},
    verifiedBy: "env",
    receivedAt,
    occurredAt: null,
    statusReason: null,
    nextAttemptAt: receivedAt,
    updatedAt: receivedAt,
    ...overrides,
  };
}

/** Wraps the real inserter to record each INSERT's row count and the maximum number of concurrent INSERTs. */
function recordingInserter(): { insert: EventInserter; batchSizes: number[]; maxInFlight: () => number } {
  const inner = createEventInserter(ctx.database);
  const batchSizes: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const insert: EventInserter = async (rows) => {
    batchSizes.push(rows.length);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      return await inner(rows);
    } finally {
      inFlight--;
    }
  };
  return { insert, batchSizes, maxInFlight: () => maxInFlight };
}

async function countRows(ids: readonly string[]): Promise<number> {
  const [row] = await ctx.db
    .select({ total: count() })
    .from(webhookEvents)
    .where(inArray(webhookEvents.id, [...ids]));
  return row?.total ?? 0;
}

describe("EventWriter batching", () => {
  test("concurrent stores share one insert", async () => {
    const recording = recordingInserter();
    const writer = new EventWriter(ctx.db, recording.insert);
    const rows = Array.from({ length: 50 }, () => eventRow());

    const results = await Promise.all(rows.map((row) => writer.store(row)));

    expect(recording.batchSizes).toEqual([50]);
    expect(results.map((result) => result.id)).toEqual(rows.map((row) => row.id));
    expect(results.every((result) => !result.duplicate)).toBe(true);
    expect(results.every((result) => result.status === "pending")).toBe(true);
    expect(await countRows(rows.map((row) => row.id))).toBe(50);
  });

  test("batches respect size and concurrency limits", async () => {
    const recording = recordingInserter();
    const writer = new EventWriter(ctx.db, recording.insert, { maxBatchSize: 10, maxConcurrentBatches: 2 });
    const rows = Array.from({ length: 95 }, () => eventRow());

    const results = await Promise.all(rows.map((row) => writer.store(row)));

    expect(recording.batchSizes.every((size) => size <= 10)).toBe(true);
    expect(recording.batchSizes.reduce((sum, size) => sum + size, 0)).toBe(95);
    expect(recording.maxInFlight()).toBeLessThanOrEqual(2);
    expect(results.map((result) => result.id)).toEqual(rows.map((row) => row.id));
    expect(await countRows(rows.map((row) => row.id))).toBe(95);
  });

  test("each store gets its row", async () => {
    const writer = new EventWriter(ctx.db, createEventInserter(ctx.database));
    const rows = Array.from({ length: 20 }, (_, index) =>
      eventRow({
        eventType: `type_${index}`,
        status: index % 2 === 0 ? "pending" : "ignored",
        statusReason: index % 2 === 0 ? null : `reason ${index}`,
      }),
    );

    const results = await Promise.all(rows.map((row) => writer.store(row)));

    for (const [index, result] of results.entries()) {
      expect(result.id).toBe(rows[index]?.id ?? "");
      expect(result.eventType).toBe(`type_${index}`);
      expect(result.status).toBe(index % 2 === 0 ? "pending" : "ignored");
      expect(result.statusReason).toBe(index % 2 === 0 ? null : `reason ${index}`);
    }
  });

  test("duplicates in one batch merge", async () => {
    const writer = new EventWriter(ctx.db, createEventInserter(ctx.database));
    const key = `event:${crypto.randomUUID()}`;
    const rows = [eventRow({ idempotencyKey: key }), eventRow(), eventRow({ idempotencyKey: key })];

    const [first, other, copy] = await Promise.all(rows.map((row) => writer.store(row)));

    expect(first?.duplicate).toBe(false);
    expect(other?.duplicate).toBe(false);
    expect(copy?.duplicate).toBe(true);
    expect(copy?.id).toBe(rows[0]?.id ?? "");
    expect(await countRows(rows.map((row) => row.id))).toBe(2);
  });

  test("duplicate finds the stored row", async () => {
    const writer = new EventWriter(ctx.db, createEventInserter(ctx.database));
    const original = eventRow({ status: "ignored", statusReason: "no side effects" });
    await writer.store(original);

    const copy = await writer.store(eventRow({ idempotencyKey: original.idempotencyKey }));

    expect(copy.duplicate).toBe(true);
    expect(copy.id).toBe(original.id);
    expect(copy.status).toBe("ignored");
    expect(copy.statusReason).toBe("no side effects");
  });

  test("key is unique per source", async () => {
    const writer = new EventWriter(ctx.db, createEventInserter(ctx.database));
    const key = `event:${crypto.randomUUID()}`;

    const echo = await writer.store(eventRow({ idempotencyKey: key }));
    const surge = await writer.store(eventRow({ idempotencyKey: key, source: "surge" }));

    expect(echo.duplicate).toBe(false);
    expect(surge.duplicate).toBe(false);
    expect(surge.id).not.toBe(echo.id);
  });
});

describe("EventWriter failures", () => {
  test("failing row fails alone", async () => {
    const recording = recordingInserter();
    const writer = new EventWriter(ctx.db, recording.insert);
    // Postgres text columns reject NUL, so this row fails the INSERT that holds it.
    const rows = [eventRow(), eventRow(), eventRow({ eventType: "bad\u0000type" }), eventRow(), eventRow()];

    const results = await Promise.allSettled(rows.map((row) => writer.store(row)));

    expect(recording.batchSizes[0]).toBe(5);
    expect(results.map((result) => result.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    expect(await countRows(rows.map((row) => row.id))).toBe(4);
    const good = rows[0];
    if (good) {
      expect((await readEvent(ctx.db, good.id)).status).toBe("pending");
    }
  });

  test("same-key copy survives failing row", async () => {
    const writer = new EventWriter(ctx.db, createEventInserter(ctx.database));
    const key = `event:${crypto.randomUUID()}`;
    const bad = eventRow({ idempotencyKey: key, occurredAt: new Date("0000-01-01T00:00:00Z") });
    const copy = eventRow({ idempotencyKey: key });

    const results = await Promise.allSettled([writer.store(bad), writer.store(copy)]);

    expect(results[0]?.status).toBe("rejected");
    expect(results[1]?.status).toBe("fulfilled");
    if (results[1]?.status === "fulfilled") {
      expect(results[1].value.id).toBe(copy.id);
      expect(results[1].value.duplicate).toBe(false);
    }
  });

  test("inserter error rejects every caller", async () => {
    const outage = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
    const writer = new EventWriter(ctx.db, () => Promise.reject(outage));

    const results = await Promise.allSettled([writer.store(eventRow()), writer.store(eventRow())]);

    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(result.reason).toBe(outage);
      }
    }
  });

  test("writer keeps working after a failure", async () => {
    const writer = new EventWriter(ctx.db, createEventInserter(ctx.database));
    await Promise.allSettled([writer.store(eventRow({ eventType: "\u0000" }))]);

    const row = eventRow();
    const result = await writer.store(row);

    expect(result.id).toBe(row.id);
    expect(await countRows([row.id])).toBe(1);
  });
});
