import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { deliveries, invoices, leadActivities, outboundMessages } from "@basalt/db";
import { and, eq } from "drizzle-orm";
import { DeliveryWorker, type IntegrationSettings } from "../../../src";
import { type CrmFixture, createCrmFixture, deliver } from "../../support";
import { type FakeIntegrations, startFakeIntegrations } from "../fakes/fake-integrations";
import { type MercuryInvoiceStatus, startFakeMercury } from "../fakes/fake-mercury";
import { attemptsOf, createOutboundContext, type OutboundTestContext } from "../support";

let ctx: OutboundTestContext;
let fakes: FakeIntegrations;

beforeAll(async () => {
  fakes = await startFakeIntegrations();
  ctx = await createOutboundContext({ integrations: fakes.settings });
});

afterEach(() => {
  fakes.reset();
});

afterAll(async () => {
  await fakes.stop();
  await ctx.base.database.destroy();
});

/** Creates the CRM records and a Mercury receivable in `status` linked to the invoice. */
async function invoiceWithReceivable(
  status: MercuryInvoiceStatus = "Unpaid",
  lineItemCount = 1,
): Promise<{ fixture: CrmFixture; receivableId: string }> {
  const fixture = await createCrmFixture(ctx.db);
  const receivable = fakes.mercury.addInvoice({ status, lineItemCount });
  await ctx.db.update(invoices).set({ mercuryInvoiceId: receivable.id }).where(eq(invoices.id, fixture.invoiceId));
  return { fixture, receivableId: receivable.id };
}

/** Pays the fixture's invoice through a signed Surge payment and processes the event. */
function payThroughSurge(fixture: CrmFixture, paymentId = `pay_${crypto.randomUUID()}`) {
  return deliver(ctx.base, "surge", {
    type: "payment.confirmed",
    data: { id: paymentId, external_id: fixture.invoiceId, amount: "499.00", currency: "USDC" },
  });
}

/** Reads the Mercury deliveries queued while processing the given webhook event, with their parsed bodies. */
async function mercuryDeliveriesOf(eventId: string) {
  const rows = await ctx.db
    .select({ delivery: deliveries, body: outboundMessages.body })
    .from(deliveries)
    .innerJoin(outboundMessages, eq(outboundMessages.id, deliveries.messageId))
    .where(and(eq(outboundMessages.eventId, eventId), eq(deliveries.target, "mercury_invoice")));
  return rows.map((row) => ({ ...row.delivery, body: JSON.parse(row.body) as unknown }));
}

async function onlyMercuryDelivery(eventId: string) {
  const rows = await mercuryDeliveriesOf(eventId);
  const [delivery] = rows;
  if (!delivery || rows.length !== 1) {
    throw new Error(`expected one Mercury delivery for event ${eventId}, found ${rows.length}`);
  }
  return delivery;
}

async function readInvoice(id: string) {
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, id));
  return invoice;
}

async function doublePaidActivities(leadId: string) {
  return ctx.db
    .select()
    .from(leadActivities)
    .where(and(eq(leadActivities.leadId, leadId), eq(leadActivities.kind, "invoice.double_paid")));
}

function workerWithMercury(mercury: Partial<IntegrationSettings["mercury"]>): DeliveryWorker {
  const integrations = { ...fakes.settings, mercury: { ...fakes.settings.mercury, ...mercury } };
  return new DeliveryWorker({ ...ctx, integrations });
}

describe("mercury receivable cancel", () => {
  test("paid invoice cancels the receivable", async () => {
    const { fixture, receivableId } = await invoiceWithReceivable();

    const event = await payThroughSurge(fixture);
    const queued = await onlyMercuryDelivery(event.id);
    await ctx.deliveryWorker.drain();

    expect(event.status).toBe("processed");
    expect(queued.body).toEqual({ invoiceId: fixture.invoiceId, mercuryInvoiceId: receivableId });
    const [request, ...others] = fakes.mercury.requests;
    expect(others).toHaveLength(0);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/ar/invoices/${receivableId}/cancel`);
    expect(request?.headers.authorization).toBe(`Bearer ${fakes.mercury.apiToken}`);
    expect(fakes.mercury.invoice(receivableId)?.status).toBe("Cancelled");

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toBe(`Mercury invoice ${receivableId} cancelled`);
    const [attempt] = await attemptsOf(ctx, delivery.id);
    expect(attempt?.statusCode).toBe(200);
    expect(attempt?.responseBody).toContain('"status":"Cancelled"');
    const invoice = await readInvoice(fixture.invoiceId);
    expect(invoice?.status).toBe("PAID");
    expect(invoice?.doublePaidAt).toBeNull();
  });

  test("invoice without receivable queues nothing", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const event = await payThroughSurge(fixture);

    expect(event.status).toBe("processed");
    expect(await mercuryDeliveriesOf(event.id)).toHaveLength(0);
  });

  test("second payment queues no second cancel", async () => {
    const { fixture } = await invoiceWithReceivable();
    const first = await payThroughSurge(fixture);

    const second = await payThroughSurge(fixture);
    await ctx.deliveryWorker.drain();

    expect(second.status).toBe("processed");
    expect(await mercuryDeliveriesOf(first.id)).toHaveLength(1);
    expect(await mercuryDeliveriesOf(second.id)).toHaveLength(0);
    expect(fakes.mercury.requests).toHaveLength(1);
  });
});

describe("mercury receivable already settled", () => {
  test("paid receivable flags double payment", async () => {
    const { fixture, receivableId } = await invoiceWithReceivable("Paid");

    const event = await payThroughSurge(fixture);
    await ctx.deliveryWorker.drain();

    const [cancel, read, ...others] = fakes.mercury.requests;
    expect(others).toHaveLength(0);
    expect(cancel?.path).toBe(`/ar/invoices/${receivableId}/cancel`);
    expect(read?.method).toBe("GET");
    expect(read?.path).toBe(`/ar/invoices/${receivableId}`);
    expect(read?.headers.authorization).toBe(`Bearer ${fakes.mercury.apiToken}`);

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toContain("was already paid");
    const [attempt] = await attemptsOf(ctx, delivery.id);
    expect(attempt?.statusCode).toBe(400);
    const invoice = await readInvoice(fixture.invoiceId);
    expect(invoice?.doublePaidAt).toEqual(ctx.clock.now());
    const [activity, ...otherActivities] = await doublePaidActivities(fixture.leadId);
    expect(otherActivities).toHaveLength(0);
    expect(activity?.summary).toContain(receivableId);
    expect(activity?.data).toEqual({ invoiceId: fixture.invoiceId, mercuryInvoiceId: receivableId });
  });

  test("large paid receivable is still read", async () => {
    const { fixture } = await invoiceWithReceivable("Paid", 80);

    const event = await payThroughSurge(fixture);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    const invoice = await readInvoice(fixture.invoiceId);
    expect(invoice?.doublePaidAt).toEqual(ctx.clock.now());
  });

  test("earlier double payment keeps its time", async () => {
    const { fixture } = await invoiceWithReceivable("Paid");
    fakes.mercury.respondNext({ status: 503 });
    const event = await payThroughSurge(fixture);
    await ctx.deliveryWorker.drain();
    const flaggedAt = ctx.clock.now();
    await payThroughSurge(fixture);

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    const invoice = await readInvoice(fixture.invoiceId);
    expect(invoice?.doublePaidAt).toEqual(flaggedAt);
    expect(await doublePaidActivities(fixture.leadId)).toHaveLength(2);
  });

  test("cancelled receivable succeeds without flag", async () => {
    const { fixture, receivableId } = await invoiceWithReceivable("Cancelled");

    const event = await payThroughSurge(fixture);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toBe(`Mercury invoice ${receivableId} was already cancelled`);
    const invoice = await readInvoice(fixture.invoiceId);
    expect(invoice?.doublePaidAt).toBeNull();
    expect(await doublePaidActivities(fixture.leadId)).toHaveLength(0);
  });
});

describe("mercury failures", () => {
  test("500 is retried", async () => {
    const { fixture, receivableId } = await invoiceWithReceivable();
    fakes.mercury.respondNext({ status: 500, body: { errors: { message: "Internal error." } } });
    const event = await payThroughSurge(fixture);

    await ctx.deliveryWorker.drain();

    const waiting = await onlyMercuryDelivery(event.id);
    expect(waiting.status).toBe("pending");
    expect(waiting.attempts).toBe(1);
    expect(waiting.lastStatusCode).toBe(500);
    expect(waiting.lastError).toBe("Mercury responded 500 to the cancel");
    const waitMs = (waiting.nextAttemptAt?.getTime() ?? 0) - ctx.clock.now().getTime();
    expect(waitMs).toBeGreaterThanOrEqual(4_000);
    expect(waitMs).toBeLessThanOrEqual(6_000);

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect(fakes.mercury.invoice(receivableId)?.status).toBe("Cancelled");
    const attempts = await attemptsOf(ctx, delivery.id);
    expect(attempts.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
    expect(attempts[0]?.responseBody).toBe('{"errors":{"message":"Internal error."}}');
  });

  test("refused unpaid cancel is retried", async () => {
    const { fixture, receivableId } = await invoiceWithReceivable();
    fakes.mercury.respondNext({ status: 409, body: { errors: { message: "Invoice is being updated." } } });
    const event = await payThroughSurge(fixture);

    await ctx.deliveryWorker.drain();

    const waiting = await onlyMercuryDelivery(event.id);
    expect(waiting.status).toBe("pending");
    expect(waiting.lastStatusCode).toBe(409);
    expect(waiting.lastError).toContain("the invoice status is Unpaid");

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect(fakes.mercury.invoice(receivableId)?.status).toBe("Cancelled");
  });

  test("failed status read is retried", async () => {
    const { fixture } = await invoiceWithReceivable("Paid");
    fakes.mercury.respondNext({ status: 502, body: "Bad Gateway" }, (request) => request.method === "GET");
    const event = await payThroughSurge(fixture);

    await ctx.deliveryWorker.drain();

    const waiting = await onlyMercuryDelivery(event.id);
    expect(waiting.status).toBe("pending");
    expect(waiting.lastStatusCode).toBe(400);
    expect(waiting.lastError).toContain("502");
    expect((await readInvoice(fixture.invoiceId))?.doublePaidAt).toBeNull();

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect((await readInvoice(fixture.invoiceId))?.doublePaidAt).toEqual(ctx.clock.now());
  });

  test("missing token skips the cancel", async () => {
    const { fixture } = await invoiceWithReceivable();
    const event = await payThroughSurge(fixture);

    await workerWithMercury({ apiToken: undefined }).drain();

    expect(fakes.mercury.requests).toHaveLength(0);
    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("skipped");
    expect(delivery.statusReason).toStartWith("MERCURY_API_TOKEN is not set");
    expect(delivery.attempts).toBe(0);
    expect(await attemptsOf(ctx, delivery.id)).toHaveLength(0);
  });

  test("stopped server logs the network error", async () => {
    const { fixture, receivableId } = await invoiceWithReceivable();
    const stopped = await startFakeMercury();
    await stopped.stop();
    const event = await payThroughSurge(fixture);

    await workerWithMercury({ apiUrl: stopped.url }).drain();

    const waiting = await onlyMercuryDelivery(event.id);
    expect(waiting.status).toBe("pending");
    expect(waiting.lastError).toStartWith("Mercury request failed: ");
    const [attempt] = await attemptsOf(ctx, waiting.id);
    expect(attempt?.statusCode).toBeNull();
    expect(attempt?.error).toContain("Unable to connect");

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const delivery = await onlyMercuryDelivery(event.id);
    expect(delivery.status).toBe("succeeded");
    expect(fakes.mercury.invoice(receivableId)?.status).toBe("Cancelled");
  });
});
