import { expect, test } from "bun:test";
import {
  accounts,
  type DatabaseHandle,
  invoices,
  leadActivities,
  leadgenCreditLedger,
  openDatabase,
  webhookEvents,
} from "@basalt/db";
import type { Subprocess } from "bun";
import { count, eq } from "drizzle-orm";
import { EventWorker, type ProcessOutcome, type ReceiveOutcome, silentLogger } from "../../src";
import { type CrmFixture, createCrmFixture, createTestContext, receiveSigned, type TestContext } from "../support";

/** Payments for distinct invoices, plus several distinct payments of one shared invoice. */
const distinctInvoices = 300;
const sharedInvoicePayments = 8;
const inProcessWorkers = 4;

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

/** Reads a child's stdout by line. `next` returns the next full line, or null at the end of output. */
function lineReader(stream: ReadableStream<Uint8Array>): { next(): Promise<string | null> } {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    async next() {
      while (!buffered.includes("\n")) {
        const { done, value } = await reader.read();
        if (done) {
          const rest = buffered;
          buffered = "";
          return rest === "" ? null : rest;
        }
        buffered += decoder.decode(value, { stream: true });
      }
      const end = buffered.indexOf("\n");
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      return line;
    },
  };
}

async function pendingCount(ctx: TestContext): Promise<number> {
  const [row] = await ctx.db.select({ total: count() }).from(webhookEvents).where(eq(webhookEvents.status, "pending"));
  return row?.total ?? 0;
}

/** Polls until no event is pending and throws after `timeoutMs`, a generous deadline that no check measures. */
async function waitUntilNothingPending(ctx: TestContext, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pendingCount(ctx)) > 0) {
    if (Date.now() > deadline) {
      throw new Error(`events still pending after ${timeoutMs} ms`);
    }
    await Bun.sleep(50);
  }
}

test.skipIf(!process.env.DATABASE_URL)(
  "several processes apply each event once",
  async () => {
    const ctx = await createTestContext();
    const pools: DatabaseHandle[] = [];
    const workers: EventWorker[] = [];
    let child: Subprocess<"ignore", "pipe", "inherit"> | undefined;
    try {
      const url = ctx.database.url;
      if (url === undefined) {
        throw new Error("the test database has no URL; set DATABASE_URL");
      }

      const fixtures: CrmFixture[] = [];
      for (let index = 0; index < distinctInvoices; index++) {
        fixtures.push(await createCrmFixture(ctx.db));
      }
      const shared = await createCrmFixture(ctx.db);
      const payments = [
        ...fixtures.map((fixture) => payment(fixture.invoiceId)),
        ...Array.from({ length: sharedInvoicePayments }, () => payment(shared.invoiceId)),
      ];
      const eventIds = (await Promise.all(payments.map((body) => receiveSigned(ctx, "surge", body)))).map(storedId);
      expect(new Set(eventIds).size).toBe(payments.length);

      const outcomes: ProcessOutcome[] = [];
      for (let index = 0; index < inProcessWorkers; index++) {
        const pool = await openDatabase({ url, maxConnections: 4 });
        pools.push(pool);
        workers.push(
          new EventWorker(
            { db: pool.db, clock: ctx.clock, logger: silentLogger },
            { batchSize: 8, concurrency: 2, pollIntervalMs: 20 },
            { onOutcome: (outcome) => outcomes.push(outcome) },
          ),
        );
      }

      // The child starts first and prints `started` after its first outcome, so it surely processes
      // events. The in-process workers start only then and compete with it for the rest.
      child = Bun.spawn(
        [process.execPath, `${import.meta.dir}/worker-process.ts`, url, ctx.clock.now().toISOString()],
        {
          stdin: "ignore",
          stdout: "pipe",
          stderr: "inherit",
        },
      );
      const childLines = lineReader(child.stdout);
      const firstLine = await childLines.next();
      for (const worker of workers) {
        worker.start();
      }
      await waitUntilNothingPending(ctx, 120_000);
      await Promise.all(workers.map((worker) => worker.stop()));
      const childSummary = await childLines.next();
      const childExitCode = await child.exited;

      expect(firstLine).toBe("started");
      expect(childExitCode).toBe(0);
      const childOutcomes: Partial<Record<ProcessOutcome, number>> = JSON.parse(childSummary ?? "{}");
      const childProcessed = childOutcomes.processed ?? 0;
      const inProcessProcessed = outcomes.filter((outcome) => outcome === "processed").length;
      expect(childProcessed).toBeGreaterThan(0);
      expect(childProcessed + inProcessProcessed).toBe(payments.length);
      expect(outcomes.filter((outcome) => outcome !== "processed")).toEqual([]);
      expect(Object.keys(childOutcomes)).toEqual(["processed"]);

      const events = await ctx.db.select().from(webhookEvents);
      expect(events).toHaveLength(payments.length);
      expect(events.filter((event) => event.status !== "processed")).toEqual([]);
      expect(events.filter((event) => event.attempts !== 1)).toEqual([]);
      expect(events.filter((event) => event.leaseOwner !== null)).toEqual([]);

      const ledger = await ctx.db.select().from(leadgenCreditLedger);
      const ledgerByInvoice = Map.groupBy(ledger, (row) => row.invoiceId);
      const accountRows = await ctx.db.select().from(accounts);
      const credits = new Map(accountRows.map((account) => [account.id, account.leadgenCredits]));
      const paidRows = await ctx.db.select().from(leadActivities).where(eq(leadActivities.kind, "invoice.paid"));
      const paidByLead = Map.groupBy(paidRows, (row) => row.leadId);
      for (const fixture of [...fixtures, shared]) {
        expect(ledgerByInvoice.get(fixture.invoiceId)).toHaveLength(1);
        expect(credits.get(fixture.accountId)).toBe(100);
        expect(paidByLead.get(fixture.leadId)).toHaveLength(1);
      }

      const invoiceRows = await ctx.db.select().from(invoices);
      expect(invoiceRows.filter((invoice) => invoice.status !== "PAID")).toEqual([]);
      const sharedInvoice = invoiceRows.find((invoice) => invoice.id === shared.invoiceId);
      expect(sharedInvoice?.doublePaidAt).not.toBeNull();
    } finally {
      if (child !== undefined && child.exitCode === null) {
        child.kill();
        await child.exited;
      }
      await Promise.all(workers.map((worker) => worker.stop()));
      await Promise.all(pools.map((pool) => pool.close()));
      await ctx.database.destroy();
    }
  },
  240_000,
);
