import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { accounts, invoices, leadActivities, leadgenCreditLedger, type WebhookEvent, webhookEvents } from "@basalt/db";
import { and, eq, inArray } from "drizzle-orm";
import {
  ConflictError,
  claimEvents,
  EventWorker,
  NotFoundError,
  type ProcessOutcome,
  processEvents,
  type ReceiveOutcome,
  retryEvent,
} from "../../src";
import { createCrmFixture, createTestContext, readEvent, receiveSigned, type TestContext } from "../support";

// Each test gets its own database, so drain counts and claims see only that test's events.
let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext();
}, 60_000);

afterEach(async () => {
  await ctx.database.destroy();
});

/** The retry delays of the test context's worker: three attempts, then failed. */
const retrySettings = { retryDelaysMs: [10_000, 60_000] };

const payment = (invoiceId: string) => ({
  type: "payment.confirmed",
  data: { id: `pay_${crypto.randomUUID()}`, external_id: invoiceId, amount: "499.00", currency: "USDC" },
});

function storedId(outcome: ReceiveOutcome): string {
  if (outcome.kind !== "stored") {
    throw new Error(`expected a stored event, got ${JSON.stringify(outcome)}`);
  }
  return outcome.eventId;
}

/** Receives a payment for an invoice, which need not exist, and returns the stored event id. */
async function receivePayment(invoiceId: string): Promise<string> {
  return storedId(await receiveSigned(ctx, "surge", payment(invoiceId)));
}

async function creditBalance(accountId: string): Promise<number | undefined> {
  const [account] = await ctx.db.select().from(accounts).where(eq(accounts.id, accountId));
  return account?.leadgenCredits;
}

async function invoiceStatus(invoiceId: string): Promise<string | undefined> {
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, invoiceId));
  return invoice?.status;
}

async function ledgerRows(invoiceId: string): Promise<number> {
  const rows = await ctx.db.select().from(leadgenCreditLedger).where(eq(leadgenCreditLedger.invoiceId, invoiceId));
  return rows.length;
}

async function paidActivities(leadId: string): Promise<number> {
  const rows = await ctx.db
    .select()
    .from(leadActivities)
    .where(and(eq(leadActivities.leadId, leadId), eq(leadActivities.kind, "invoice.paid")));
  return rows.length;
}

async function readEvents(ids: readonly string[]): Promise<WebhookEvent[]> {
  const rows = await ctx.db
    .select()
    .from(webhookEvents)
    .where(inArray(webhookEvents.id, [...ids]));
  return ids.map((id) => {
    const row = rows.find((event) => event.id === id);
    if (!row) {
      throw new Error(`event ${id} not found`);
    }
    return row;
  });
}

/** Creates the invoice a payment named before it existed, as an admin would. */
async function createInvoice(invoiceId: string, accountId: string): Promise<void> {
  await ctx.db
    .insert(invoices)
    .values({ id: invoiceId, accountId, number: "INV-LATE", amount: "499.00", currency: "USDC" });
}

/** Polls until `condition` holds and throws after `timeoutMs`, a deadline rather than a measured time. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await Bun.sleep(20);
  }
}

function expectDueIn(event: WebhookEvent, baseMs: number): void {
  const delay = (event.nextAttemptAt?.getTime() ?? Number.NaN) - ctx.clock.now().getTime();
  expect(delay).toBeGreaterThanOrEqual(baseMs * 0.9);
  expect(delay).toBeLessThanOrEqual(baseMs * 1.1);
}

describe("EventWorker drain", () => {
  test("pending event is processed once", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const id = await receivePayment(fixture.invoiceId);

    await ctx.worker.drain();
    await ctx.worker.drain();

    const event = await readEvent(ctx.db, id);
    expect(event.status).toBe("processed");
    expect(event.attempts).toBe(1);
    expect(event.processedAt).toEqual(ctx.clock.now());
    expect(event.leaseOwner).toBeNull();
    expect(event.leaseExpiresAt).toBeNull();
    expect(event.nextAttemptAt).toBeNull();
    expect(event.lastError).toBeNull();
    expect(await invoiceStatus(fixture.invoiceId)).toBe("PAID");
    expect(await creditBalance(fixture.accountId)).toBe(100);
    expect(await paidActivities(fixture.leadId)).toBe(1);
  });

  test("drain returns claimed count", async () => {
    const fixtures = await Promise.all([createCrmFixture(ctx.db), createCrmFixture(ctx.db)]);
    for (const fixture of fixtures) {
      await receivePayment(fixture.invoiceId);
    }

    const claimed = await ctx.worker.drain();
    const again = await ctx.worker.drain();

    expect(claimed).toBe(2);
    expect(again).toBe(0);
  });

  test("failing event is retried after backoff", async () => {
    const invoiceId = `inv_missing_${crypto.randomUUID()}`;
    const id = await receivePayment(invoiceId);

    await ctx.worker.drain();
    const first = await readEvent(ctx.db, id);
    ctx.clock.advance(8_000);
    await ctx.worker.drain();
    const early = await readEvent(ctx.db, id);
    ctx.clock.advance(4_000);
    await ctx.worker.drain();
    const second = await readEvent(ctx.db, id);

    expect(first.status).toBe("pending");
    expect(first.attempts).toBe(1);
    expect(first.lastError).toBe(`invoice ${invoiceId} not found`);
    expect(first.leaseOwner).toBeNull();
    expect(early.attempts).toBe(1);
    expect(second.status).toBe("pending");
    expect(second.attempts).toBe(2);
    expect(second.lastError).toBe(`invoice ${invoiceId} not found`);
    expectDueIn(second, 60_000);

    ctx.clock.advance(70_000);
    await ctx.worker.drain();
    const failed = await readEvent(ctx.db, id);
    ctx.clock.advance(10 * 3_600_000);
    await ctx.worker.drain();
    const later = await readEvent(ctx.db, id);

    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(3);
    expect(failed.lastError).toBe(`invoice ${invoiceId} not found`);
    expect(failed.nextAttemptAt).toBeNull();
    expect(failed.leaseOwner).toBeNull();
    expect(later.status).toBe("failed");
    expect(later.attempts).toBe(3);
  });

  test("first retry waits about 10 s", async () => {
    const id = await receivePayment(`inv_missing_${crypto.randomUUID()}`);

    await ctx.worker.drain();

    expectDueIn(await readEvent(ctx.db, id), 10_000);
    ctx.clock.advance(12_000);
    await ctx.worker.drain();
    ctx.clock.advance(70_000);
    await ctx.worker.drain();
    expect((await readEvent(ctx.db, id)).status).toBe("failed");
  });

  test("failing batch event fails alone", async () => {
    const outcomes: ProcessOutcome[] = [];
    // One lane, so the three events are claimed together and first run in one transaction.
    const worker = new EventWorker(
      ctx,
      { ...retrySettings, concurrency: 1 },
      { onOutcome: (outcome) => outcomes.push(outcome) },
    );
    const [before, after] = await Promise.all([createCrmFixture(ctx.db), createCrmFixture(ctx.db)]);
    const missing = `inv_missing_${crypto.randomUUID()}`;
    const goodId = await receivePayment(before.invoiceId);
    const badId = await receivePayment(missing);
    const otherGoodId = await receivePayment(after.invoiceId);

    const claimed = await worker.drain();

    expect(claimed).toBe(3);
    expect(outcomes).toEqual(["processed", "retry_scheduled", "processed"]);
    const good = await readEvent(ctx.db, goodId);
    const bad = await readEvent(ctx.db, badId);
    const otherGood = await readEvent(ctx.db, otherGoodId);
    expect(good.status).toBe("processed");
    expect(good.attempts).toBe(1);
    expect(otherGood.status).toBe("processed");
    expect(otherGood.attempts).toBe(1);
    expect(bad.status).toBe("pending");
    expect(bad.attempts).toBe(1);
    expect(bad.lastError).toBe(`invoice ${missing} not found`);
    for (const fixture of [before, after]) {
      expect(await creditBalance(fixture.accountId)).toBe(100);
      expect(await ledgerRows(fixture.invoiceId)).toBe(1);
      expect(await paidActivities(fixture.leadId)).toBe(1);
    }

    ctx.clock.advance(12_000);
    const retried = await worker.drain();

    expect(retried).toBe(1);
    expect(outcomes.slice(3)).toEqual(["retry_scheduled"]);
  });

  test("batch without failures commits together", async () => {
    const outcomes: ProcessOutcome[] = [];
    const worker = new EventWorker(
      ctx,
      { ...retrySettings, concurrency: 1 },
      { onOutcome: (outcome) => outcomes.push(outcome) },
    );
    const fixtures = await Promise.all(Array.from({ length: 5 }, () => createCrmFixture(ctx.db)));
    const ids: string[] = [];
    for (const fixture of fixtures) {
      ids.push(await receivePayment(fixture.invoiceId));
    }

    await worker.drain();

    expect(outcomes).toEqual(["processed", "processed", "processed", "processed", "processed"]);
    const events = await readEvents(ids);
    expect(events.every((event) => event.status === "processed")).toBe(true);
    for (const fixture of fixtures) {
      expect(await creditBalance(fixture.accountId)).toBe(100);
    }
  });
});

describe("retryEvent", () => {
  /** Receives a payment for a missing invoice and drains until the event is failed. */
  async function failedPayment(invoiceId: string): Promise<string> {
    const id = await receivePayment(invoiceId);
    await ctx.worker.drain();
    ctx.clock.advance(12_000);
    await ctx.worker.drain();
    ctx.clock.advance(70_000);
    await ctx.worker.drain();
    return id;
  }

  test("failed event gets a fresh series", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const invoiceId = `inv_late_${crypto.randomUUID()}`;
    const id = await failedPayment(invoiceId);
    const notified = ctx.pendingEvents.length;

    await retryEvent(ctx, { id });
    const requeued = await readEvent(ctx.db, id);
    await ctx.worker.drain();
    const retried = await readEvent(ctx.db, id);

    expect(requeued.status).toBe("pending");
    expect(requeued.attempts).toBe(0);
    expect(requeued.nextAttemptAt).toEqual(ctx.clock.now());
    expect(requeued.leaseOwner).toBeNull();
    expect(ctx.pendingEvents.slice(notified)).toEqual([id]);
    expect(retried.status).toBe("pending");
    expect(retried.attempts).toBe(1);
    expectDueIn(retried, 10_000);

    await createInvoice(invoiceId, fixture.accountId);
    ctx.clock.advance(12_000);
    await ctx.worker.drain();
    const processed = await readEvent(ctx.db, id);

    expect(processed.status).toBe("processed");
    expect(processed.attempts).toBe(2);
    expect(processed.lastError).toBeNull();
    expect(await invoiceStatus(invoiceId)).toBe("PAID");
  });

  test("pending event cannot be retried", async () => {
    const id = await receivePayment(`inv_missing_${crypto.randomUUID()}`);

    await expect(retryEvent(ctx, { id })).rejects.toBeInstanceOf(ConflictError);

    const event = await readEvent(ctx.db, id);
    expect(event.status).toBe("pending");
    expect(event.attempts).toBe(0);
  });

  test("rejected event cannot be retried", async () => {
    const id = storedId(await receiveSigned(ctx, "surge", "not json"));

    await expect(retryEvent(ctx, { id })).rejects.toBeInstanceOf(ConflictError);

    expect((await readEvent(ctx.db, id)).status).toBe("rejected");
  });

  test("unknown event is not found", async () => {
    await expect(retryEvent(ctx, { id: "evt_unknown" })).rejects.toBeInstanceOf(NotFoundError);
  });

  test("processing-ignored event can be retried", async () => {
    const id = storedId(
      await receiveSigned(ctx, "resend", { type: "email.delivered", data: { email_id: `msg_${crypto.randomUUID()}` } }),
    );
    await ctx.worker.drain();
    const ignored = await readEvent(ctx.db, id);

    await retryEvent(ctx, { id });
    const requeued = await readEvent(ctx.db, id);
    await ctx.worker.drain();

    expect(ignored.status).toBe("ignored");
    expect(requeued.status).toBe("pending");
    expect(requeued.attempts).toBe(0);
    expect((await readEvent(ctx.db, id)).status).toBe("ignored");
  });
});

describe("EventWorker leases", () => {
  test("expired lease is taken over", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const id = await receivePayment(fixture.invoiceId);
    const claimed = await claimEvents(ctx.db, {
      owner: "wrk_crashed",
      now: ctx.clock.now(),
      leaseMs: 60_000,
      limit: 100,
    });

    await ctx.worker.drain();
    const whileLeased = await readEvent(ctx.db, id);
    ctx.clock.advance(60_001);
    await ctx.worker.drain();
    const takenOver = await readEvent(ctx.db, id);

    expect(claimed.map((event) => event.id)).toContain(id);
    expect(whileLeased.status).toBe("pending");
    expect(whileLeased.leaseOwner).toBe("wrk_crashed");
    expect(whileLeased.attempts).toBe(1);
    expect(takenOver.status).toBe("processed");
    expect(takenOver.attempts).toBe(2);
    expect(takenOver.leaseOwner).toBeNull();
    expect(await creditBalance(fixture.accountId)).toBe(100);
    expect(await paidActivities(fixture.leadId)).toBe(1);
  });

  test("stale owner's finish rolls back", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const id = await receivePayment(fixture.invoiceId);
    const [stale] = (
      await claimEvents(ctx.db, { owner: "wrk_slow", now: ctx.clock.now(), leaseMs: 60_000, limit: 100 })
    ).filter((event) => event.id === id);
    ctx.clock.advance(60_001);
    const [current] = (
      await claimEvents(ctx.db, { owner: "wrk_new", now: ctx.clock.now(), leaseMs: 60_000, limit: 100 })
    ).filter((event) => event.id === id);
    if (!stale || !current) {
      throw new Error(`event ${id} was not claimed by both workers`);
    }

    const staleOutcomes = await processEvents(ctx, { events: [stale], owner: "wrk_slow", settings: retrySettings });
    const afterStale = await readEvent(ctx.db, id);
    const statusAfterStale = await invoiceStatus(fixture.invoiceId);
    const currentOutcomes = await processEvents(ctx, { events: [current], owner: "wrk_new", settings: retrySettings });

    expect(staleOutcomes).toEqual(["lease_lost"]);
    expect(afterStale.status).toBe("pending");
    expect(afterStale.leaseOwner).toBe("wrk_new");
    expect(statusAfterStale).toBe("OPEN");
    expect(currentOutcomes).toEqual(["processed"]);
    expect(await invoiceStatus(fixture.invoiceId)).toBe("PAID");
    expect(await creditBalance(fixture.accountId)).toBe(100);
    expect(await paidActivities(fixture.leadId)).toBe(1);
  });

  test("stale owner's failure is dropped", async () => {
    const id = await receivePayment(`inv_missing_${crypto.randomUUID()}`);
    const [stale] = (
      await claimEvents(ctx.db, { owner: "wrk_slow", now: ctx.clock.now(), leaseMs: 60_000, limit: 100 })
    ).filter((event) => event.id === id);
    ctx.clock.advance(60_001);
    await claimEvents(ctx.db, { owner: "wrk_new", now: ctx.clock.now(), leaseMs: 60_000, limit: 100 });
    if (!stale) {
      throw new Error(`event ${id} was not claimed`);
    }

    const outcomes = await processEvents(ctx, { events: [stale], owner: "wrk_slow", settings: retrySettings });

    expect(outcomes).toEqual(["lease_lost"]);
    const event = await readEvent(ctx.db, id);
    expect(event.leaseOwner).toBe("wrk_new");
    expect(event.lastError).toBeNull();
  });

  test("stop releases claimed events not started", async () => {
    const fixtures = await Promise.all([createCrmFixture(ctx.db), createCrmFixture(ctx.db), createCrmFixture(ctx.db)]);
    const ids: string[] = [];
    for (const fixture of fixtures) {
      ids.push(await receivePayment(fixture.invoiceId));
    }
    ctx.clock.advance(1_000);
    const worker = new EventWorker(ctx, { ...retrySettings, pollIntervalMs: 60_000 });

    // start() claims at once; stop() lands while that claim runs, so no claimed event is started.
    worker.start();
    await worker.stop();
    const released = await readEvents(ids);

    for (const event of released) {
      expect(event.status).toBe("pending");
      expect(event.leaseOwner).toBeNull();
      expect(event.leaseExpiresAt).toBeNull();
      expect(event.attempts).toBe(0);
      // The claim wrote updatedAt at the advanced time, so the events were claimed before release.
      expect(event.updatedAt).toEqual(ctx.clock.now());
    }

    await ctx.worker.drain();
    for (const event of await readEvents(ids)) {
      expect(event.status).toBe("processed");
      expect(event.attempts).toBe(1);
    }
  });
});

describe("claimEvents", () => {
  test("two owners claim disjoint events", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 6; index++) {
      ids.push(await receivePayment(`inv_missing_${crypto.randomUUID()}`));
    }
    const now = ctx.clock.now();

    const [first, second] = await Promise.all([
      claimEvents(ctx.db, { owner: "wrk_a", now, leaseMs: 60_000, limit: 4 }),
      claimEvents(ctx.db, { owner: "wrk_b", now, leaseMs: 60_000, limit: 4 }),
    ]);

    const firstIds = (first ?? []).map((event) => event.id);
    const secondIds = (second ?? []).map((event) => event.id);
    expect(firstIds.length).toBeLessThanOrEqual(4);
    expect(secondIds.length).toBeLessThanOrEqual(4);
    expect(firstIds.length + secondIds.length).toBe(6);
    expect(firstIds.filter((id) => secondIds.includes(id))).toEqual([]);
    expect([...firstIds, ...secondIds].sort()).toEqual([...ids].sort());
    expect([...(first ?? []), ...(second ?? [])].every((event) => event.attempts === 1)).toBe(true);
    expect(firstIds).toEqual([...firstIds].sort());
  });

  test("future retry is not claimed", async () => {
    const id = await receivePayment(`inv_missing_${crypto.randomUUID()}`);
    await ctx.worker.drain();

    const claimed = await claimEvents(ctx.db, {
      owner: "wrk_early",
      now: ctx.clock.now(),
      leaseMs: 60_000,
      limit: 100,
    });

    expect(claimed.map((event) => event.id)).not.toContain(id);
  });
});

describe("EventWorker loop", () => {
  test("wake processes a new event", async () => {
    let loops = 0;
    const worker = new EventWorker(
      ctx,
      { ...retrySettings, pollIntervalMs: 60_000 },
      {
        isReceivingBusy: () => {
          loops++;
          return false;
        },
      },
    );
    const receiving = { ...ctx, onPendingEvent: () => worker.wake() };
    const fixture = await createCrmFixture(ctx.db);
    worker.start();
    await waitFor(async () => loops > 0);
    // Give the first, empty claim time to finish, so the worker is waiting out its 60 s poll interval.
    await Bun.sleep(100);

    try {
      const id = storedId(await receiveSigned(receiving, "surge", payment(fixture.invoiceId)));
      await waitFor(async () => (await readEvent(ctx.db, id)).status === "processed");

      expect((await readEvent(ctx.db, id)).attempts).toBe(1);
      expect(await invoiceStatus(fixture.invoiceId)).toBe("PAID");
    } finally {
      await worker.stop();
    }
  });

  test("busy worker still processes events", async () => {
    const worker = new EventWorker(
      ctx,
      { ...retrySettings, pollIntervalMs: 20, busyPauseMs: 5 },
      { isReceivingBusy: () => true },
    );
    const fixtures = await Promise.all(Array.from({ length: 5 }, () => createCrmFixture(ctx.db)));
    const ids: string[] = [];
    for (const fixture of fixtures) {
      ids.push(await receivePayment(fixture.invoiceId));
    }

    worker.start();
    try {
      await waitFor(async () => (await readEvents(ids)).every((event) => event.status === "processed"));
    } finally {
      await worker.stop();
    }

    for (const fixture of fixtures) {
      expect(await creditBalance(fixture.accountId)).toBe(100);
    }
  });
});
