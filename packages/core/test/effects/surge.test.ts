import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { accounts, invoices, leadActivities, leadgenCreditLedger, opportunities } from "@basalt/db";
import { eq } from "drizzle-orm";
import { createCrmFixture, createTestContext, deliver, readEvent, type TestContext } from "../support";

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

const payment = (invoiceId: string, overrides: Record<string, unknown> = {}, type = "payment.confirmed") => ({
  type,
  data: {
    id: `pay_${crypto.randomUUID()}`,
    external_id: invoiceId,
    amount: "499.00",
    currency: "USDC",
    network: "base",
    tx_hash: "0xabc",
    ...overrides,
  },
});

async function readInvoice(id: string) {
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, id));
  return invoice;
}

async function creditBalance(accountId: string) {
  const [account] = await ctx.db.select().from(accounts).where(eq(accounts.id, accountId));
  return account?.leadgenCredits;
}

describe("surge payment.confirmed", () => {
  test("pays the invoice, grants credits and wins the opportunity", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const event = payment(fixture.invoiceId);

    const stored = await deliver(ctx, "surge", event);

    expect(stored.status).toBe("processed");
    const invoice = await readInvoice(fixture.invoiceId);
    expect(invoice?.status).toBe("PAID");
    expect(invoice?.paymentId).toBe(event.data.id);
    expect(invoice?.paymentNetwork).toBe("base");
    expect(invoice?.paymentTxHash).toBe("0xabc");
    expect(await creditBalance(fixture.accountId)).toBe(100);
    const [opportunity] = await ctx.db.select().from(opportunities).where(eq(opportunities.id, fixture.opportunityId));
    expect(opportunity?.stage).toBe("Closed Won");
    expect(opportunity?.closedAt).not.toBeNull();
    const activities = await ctx.db.select().from(leadActivities).where(eq(leadActivities.leadId, fixture.leadId));
    expect(activities.map((activity) => activity.kind)).toContain("invoice.paid");
  });

  test("payment.succeeded alias for the same payment is a duplicate", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const confirmed = payment(fixture.invoiceId);
    const succeeded = { ...confirmed, type: "payment.succeeded" };

    const first = await deliver(ctx, "surge", confirmed);
    const second = await deliver(ctx, "surge", succeeded);

    expect(second.id).toBe(first.id);
    expect(await creditBalance(fixture.accountId)).toBe(100);
  });

  test("payment.succeeded alone pays the invoice", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "surge", payment(fixture.invoiceId, {}, "payment.succeeded"));

    expect(stored.status).toBe("processed");
    expect((await readInvoice(fixture.invoiceId))?.status).toBe("PAID");
  });

  test("second payment of a paid invoice adds no credits and flags it", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "surge", payment(fixture.invoiceId));

    const second = await deliver(ctx, "surge", payment(fixture.invoiceId));

    expect(second.status).toBe("processed");
    expect(await creditBalance(fixture.accountId)).toBe(100);
    const ledger = await ctx.db
      .select()
      .from(leadgenCreditLedger)
      .where(eq(leadgenCreditLedger.invoiceId, fixture.invoiceId));
    expect(ledger).toHaveLength(1);
    expect((await readInvoice(fixture.invoiceId))?.doublePaidAt).not.toBeNull();
  });

  test("amounts compare as decimals", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "surge", payment(fixture.invoiceId, { amount: "499.0000", currency: "usdc" }));

    expect(stored.status).toBe("processed");
    expect((await readInvoice(fixture.invoiceId))?.status).toBe("PAID");
  });

  test("amount mismatch fails naming both amounts", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "surge", payment(fixture.invoiceId, { amount: "10.00" }));

    expect(stored.status).toBe("pending");
    expect(stored.attempts).toBe(1);
    expect(stored.lastError).toContain("10.00 USDC");
    expect(stored.lastError).toContain(`invoice ${fixture.invoiceId} amount 499 USDC`);
    expect((await readInvoice(fixture.invoiceId))?.status).toBe("OPEN");
    expect(await creditBalance(fixture.accountId)).toBe(0);
  });

  test("currency mismatch fails", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "surge", payment(fixture.invoiceId, { currency: "ETH" }));

    expect(stored.lastError).toContain("ETH");
    expect((await readInvoice(fixture.invoiceId))?.status).toBe("OPEN");
  });

  test("unknown invoice fails naming it, then waits for an admin", async () => {
    const stored = await deliver(ctx, "surge", payment("inv_missing"));

    expect(stored.status).toBe("pending");
    expect(stored.lastError).toBe("invoice inv_missing not found");

    // The test worker retries after 10 s and 60 s (each ±10 %), then gives up.
    ctx.clock.advance(12_000);
    await ctx.worker.drain();
    ctx.clock.advance(70_000);
    await ctx.worker.drain();
    const failed = await readEvent(ctx.db, stored.id);
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(3);
    expect(failed.lastError).toBe("invoice inv_missing not found");
  });
});

describe("surge receipt.status_updated", () => {
  const receipt = (receiptId: string, status: string, extra: Record<string, unknown> = {}) => ({
    event: "receipt.status_updated",
    receiptId,
    status,
    ...extra,
  });

  test("paid receipt pays the invoice with that Surge payment id", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(
      ctx,
      "surge",
      receipt(fixture.surgePaymentId, "paid", { amount: "499.00", currency: "USDC" }),
    );

    expect(stored.status).toBe("processed");
    expect((await readInvoice(fixture.invoiceId))?.status).toBe("PAID");
    expect(await creditBalance(fixture.accountId)).toBe(100);
  });

  test("reconciled receipt pays the invoice", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "surge", receipt(fixture.surgePaymentId, "reconciled"));

    expect((await readInvoice(fixture.invoiceId))?.status).toBe("PAID");
  });

  test("other receipt statuses are recorded only", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "surge", receipt(fixture.surgePaymentId, "pending"));

    expect(stored.status).toBe("processed");
    expect((await readInvoice(fixture.invoiceId))?.status).toBe("OPEN");
    const activities = await ctx.db.select().from(leadActivities).where(eq(leadActivities.leadId, fixture.leadId));
    expect(activities.map((activity) => activity.kind)).toEqual(["invoice.receipt_status"]);
  });
});
