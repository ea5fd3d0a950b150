import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { deliveries, outboundMessages, webhookEndpoints } from "@basalt/db";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import {
  createEndpoint,
  DeliveryWorker,
  InvalidInputError,
  newId,
  retryDelivery,
  retryEndpointDeliveries,
  rotateEndpointSecret,
  updateEndpoint,
} from "../../src";
import { createCrmFixture, deliver } from "../support";
import { type HttpsReceiver, startHttpsReceiver } from "./https-receiver";
import {
  attemptsOf,
  createOutboundContext,
  deliveriesOf,
  type OutboundTestContext,
  onlyDelivery,
  readDelivery,
  readEndpoint,
  recordEvent,
} from "./support";

let ctx: OutboundTestContext;
let receiver: HttpsReceiver;

beforeAll(async () => {
  ctx = await createOutboundContext();
  receiver = await startHttpsReceiver();
});

afterEach(() => {
  receiver.reply({});
});

afterAll(async () => {
  await receiver.stop();
  await ctx.base.database.destroy();
});

const decoder = new TextDecoder();

/** Creates an endpoint at a fresh path of the receiver, subscribed to the given types. */
async function endpointFor(types: string[], path = `/hooks/${crypto.randomUUID()}`) {
  const created = await createEndpoint(ctx, { url: `${receiver.url}${path}`, eventTypes: types });
  return { ...created, path };
}

function requestsTo(path: string) {
  return receiver.requests.filter((request) => request.path === path);
}

function verify(secret: string, request: { body: Uint8Array; headers: Readonly<Record<string, string>> }) {
  return new Webhook(secret).verify(decoder.decode(request.body), {
    "webhook-id": request.headers["webhook-id"] ?? "",
    "webhook-timestamp": request.headers["webhook-timestamp"] ?? "",
    "webhook-signature": request.headers["webhook-signature"] ?? "",
  });
}

describe("delivery to a customer endpoint", () => {
  test("paid invoice reaches subscribed endpoint", async () => {
    const endpoint = await endpointFor(["invoice.paid"]);
    const fixture = await createCrmFixture(ctx.db);
    const payment = {
      type: "payment.confirmed",
      data: { id: `pay_${crypto.randomUUID()}`, external_id: fixture.invoiceId, amount: "499.00", currency: "USDC" },
    };
    // Real time, because the receiver's signature check compares the timestamp with its own clock.
    ctx.clock.set(new Date());

    await deliver(ctx.base, "surge", payment);
    await ctx.deliveryWorker.drain();

    const [request, ...others] = requestsTo(endpoint.path);
    expect(others).toHaveLength(0);
    expect(request?.method).toBe("POST");
    expect(request?.headers["content-type"]).toBe("application/json");
    const verified = verify(endpoint.secret, request ?? { body: new Uint8Array(), headers: {} }) as {
      type: string;
      data: { invoice_id: string; payment_id: string; leadgen_credits_added: number };
    };
    expect(verified.type).toBe("invoice.paid");
    expect(verified.data.invoice_id).toBe(fixture.invoiceId);
    expect(verified.data.payment_id).toBe(payment.data.id);
    expect(verified.data.leadgen_credits_added).toBe(100);
    const delivery = await onlyDelivery(ctx, endpoint.id);
    expect(delivery.status).toBe("succeeded");
    expect(request?.headers["webhook-id"]).toBe(delivery.messageId);
    const [attempt] = await attemptsOf(ctx, delivery.id);
    expect(attempt?.statusCode).toBe(200);
    expect(attempt?.responseBody).toBe("ok");
  });

  test("unsubscribed endpoint gets nothing", async () => {
    const subscribed = await endpointFor(["meeting.scheduled"]);
    const other = await endpointFor(["email.bounced"]);

    const queued = await recordEvent(ctx, "meeting.scheduled", { type: "meeting.scheduled", data: {} });

    expect(queued).toBe(1);
    expect(await deliveriesOf(ctx, subscribed.id)).toHaveLength(1);
    expect(await deliveriesOf(ctx, other.id)).toHaveLength(0);
  });

  test("disabled endpoint gets nothing new", async () => {
    const endpoint = await endpointFor(["call.ended"]);
    await updateEndpoint(ctx, { id: endpoint.id, enabled: false });

    const queued = await recordEvent(ctx, "call.ended", { type: "call.ended", data: {} });

    expect(queued).toBe(0);
    expect(await deliveriesOf(ctx, endpoint.id)).toHaveLength(0);
  });

  test("rolled-back side effect sends nothing", async () => {
    const endpoint = await endpointFor(["invoice.paid", "opportunity.closed_won"]);
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx.base, "surge", {
      type: "payment.confirmed",
      data: { id: `pay_${crypto.randomUUID()}`, external_id: fixture.invoiceId, amount: "1.00", currency: "USDC" },
    });

    expect(stored.status).toBe("pending");
    expect(stored.lastError).toContain("does not match");
    expect(await deliveriesOf(ctx, endpoint.id)).toHaveLength(0);
    const messages = await ctx.db.select().from(outboundMessages).where(eq(outboundMessages.eventId, stored.id));
    expect(messages).toHaveLength(0);
  });

  test("non-ASCII body keeps its byte length", async () => {
    const endpoint = await endpointFor(["lead.stage_changed"]);
    ctx.clock.set(new Date());
    const payload = { type: "lead.stage_changed", data: { name: "Zoë Ångström 東京 🚀", to: "Engage_Human" } };

    await recordEvent(ctx, "lead.stage_changed", payload);
    await ctx.deliveryWorker.drain();

    const [request] = requestsTo(endpoint.path);
    const expected = new TextEncoder().encode(JSON.stringify(payload));
    expect(Array.from(request?.body ?? [])).toEqual(Array.from(expected));
    expect(request?.headers["content-length"]).toBe(String(expected.length));
    expect(verify(endpoint.secret, request ?? { body: new Uint8Array(), headers: {} })).toEqual(payload);
  });
});

describe("retries", () => {
  test("500 retries on schedule, then fails, then recovers", async () => {
    const endpoint = await endpointFor(["email.complained"]);
    receiver.reply({ status: 500, body: "receiver is down" });
    const start = new Date("2026-06-01T00:00:00Z");
    ctx.clock.set(start);
    await recordEvent(ctx, "email.complained", { type: "email.complained", data: { email_id: "msg_1" } });
    const delivery = await onlyDelivery(ctx, endpoint.id);
    const scheduleMs = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

    for (const [index, delayMs] of scheduleMs.entries()) {
      await ctx.deliveryWorker.drain();
      const waiting = await readDelivery(ctx, delivery.id);
      expect(waiting.status).toBe("pending");
      expect(waiting.attempts).toBe(index + 1);
      expect(waiting.lastStatusCode).toBe(500);
      const waitMs = (waiting.nextAttemptAt?.getTime() ?? 0) - ctx.clock.now().getTime();
      expect(waitMs).toBeGreaterThanOrEqual(delayMs * 0.8);
      expect(waitMs).toBeLessThanOrEqual(delayMs * 1.2);
      ctx.clock.set(waiting.nextAttemptAt ?? ctx.clock.now());
    }
    await ctx.deliveryWorker.drain();

    const failed = await readDelivery(ctx, delivery.id);
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(8);
    expect(failed.statusReason).toBe("the endpoint responded 500");
    const attempts = await attemptsOf(ctx, delivery.id);
    expect(attempts).toHaveLength(8);
    expect(attempts.every((attempt) => attempt.statusCode === 500 && attempt.responseBody === "receiver is down")).toBe(
      true,
    );
    const requests = requestsTo(endpoint.path);
    expect(new Set(requests.map((request) => request.headers["webhook-id"])).size).toBe(1);
    expect(new Set(requests.map((request) => request.headers["webhook-timestamp"])).size).toBe(8);

    receiver.reply({ status: 204 });
    await retryDelivery(ctx, { id: delivery.id });
    await ctx.deliveryWorker.drain();

    const recovered = await readDelivery(ctx, delivery.id);
    expect(recovered.status).toBe("succeeded");
    expect(recovered.attempts).toBe(1);
    expect(await attemptsOf(ctx, delivery.id)).toHaveLength(9);
    expect((await readEndpoint(ctx, endpoint.id))?.failingSince).toBeNull();
  });

  test("Retry-After sets the next attempt", async () => {
    const endpoint = await endpointFor(["email.bounced"]);
    receiver.reply({ status: 503, headers: { "retry-after": "120" } });
    ctx.clock.set(new Date("2026-06-02T00:00:00Z"));
    await recordEvent(ctx, "email.bounced", { type: "email.bounced", data: {} });

    await ctx.deliveryWorker.drain();

    const delivery = await onlyDelivery(ctx, endpoint.id);
    expect(delivery.nextAttemptAt?.getTime()).toBe(ctx.clock.now().getTime() + 120_000);
  });

  test("redirect is not followed", async () => {
    const endpoint = await endpointFor(["call.ended"]);
    const target = `/redirect-target/${crypto.randomUUID()}`;
    receiver.reply({ status: 302, headers: { location: `${receiver.url}${target}` } });
    ctx.clock.set(new Date());
    await recordEvent(ctx, "call.ended", { type: "call.ended", data: {} });

    await ctx.deliveryWorker.drain();

    const delivery = await onlyDelivery(ctx, endpoint.id);
    expect(delivery.status).toBe("pending");
    expect(delivery.lastStatusCode).toBe(302);
    expect(delivery.lastError).toContain("redirects are not followed");
    expect(requestsTo(target)).toHaveLength(0);
  });
});

describe("endpoint health", () => {
  test("410 Gone disables the endpoint", async () => {
    const endpoint = await endpointFor(["meeting.scheduled", "lead.stage_changed"]);
    receiver.reply(({ path }) => (path === endpoint.path ? { status: 410 } : {}));
    ctx.clock.set(new Date());
    await recordEvent(ctx, "meeting.scheduled", { type: "meeting.scheduled", data: {} });

    await ctx.deliveryWorker.drain();

    const [gone] = await deliveriesOf(ctx, endpoint.id);
    expect(gone?.status).toBe("failed");
    expect(gone?.attempts).toBe(1);
    const disabled = await readEndpoint(ctx, endpoint.id);
    expect(disabled?.enabled).toBe(false);
    expect(disabled?.disabledReason).toBe("the endpoint responded 410 Gone");
  });

  test("queued delivery to a disabled endpoint is cancelled", async () => {
    const endpoint = await endpointFor(["email.bounced"]);
    await recordEvent(ctx, "email.bounced", { type: "email.bounced", data: {} });
    await updateEndpoint(ctx, { id: endpoint.id, enabled: false });

    await ctx.deliveryWorker.drain();

    const delivery = await onlyDelivery(ctx, endpoint.id);
    expect(delivery.status).toBe("cancelled");
    expect(delivery.statusReason).toBe("endpoint disabled: disabled by an admin");
    expect(requestsTo(endpoint.path)).toHaveLength(0);
  });

  test("five days of failures disable the endpoint", async () => {
    const endpoint = await endpointFor(["call.ended"]);
    receiver.reply({ status: 500 });
    const now = new Date("2026-07-10T00:00:00Z");
    ctx.clock.set(now);
    await ctx.db
      .update(webhookEndpoints)
      .set({ failingSince: new Date(now.getTime() - 5 * 86_400_000 - 1_000) })
      .where(eq(webhookEndpoints.id, endpoint.id));
    await recordEvent(ctx, "call.ended", { type: "call.ended", data: {} });

    await ctx.deliveryWorker.drain();

    const disabled = await readEndpoint(ctx, endpoint.id);
    expect(disabled?.enabled).toBe(false);
    expect(disabled?.disabledReason).toContain("for more than 5 days");
  });

  test("retry all of an endpoint starts fresh series", async () => {
    const endpoint = await endpointFor(["email.complained"]);
    receiver.reply(({ path }) => (path === endpoint.path ? { status: 410 } : {}));
    ctx.clock.set(new Date());
    await recordEvent(ctx, "email.complained", { type: "email.complained", data: {} });
    await recordEvent(ctx, "email.complained", { type: "email.complained", data: {} });
    await ctx.deliveryWorker.drain();
    receiver.reply({});
    await updateEndpoint(ctx, { id: endpoint.id, enabled: true });

    const count = await retryEndpointDeliveries(ctx, { endpointId: endpoint.id });
    await ctx.deliveryWorker.drain();

    expect(count).toBe(2);
    const rows = await deliveriesOf(ctx, endpoint.id);
    expect(rows.map((row) => row.status)).toEqual(["succeeded", "succeeded"]);
  });
});

describe("endpoint secrets", () => {
  test("rotation signs with old and new secrets", async () => {
    const endpoint = await endpointFor(["lead.stage_changed"]);
    ctx.clock.set(new Date());

    const rotated = await rotateEndpointSecret(ctx, { endpointId: endpoint.id });
    await recordEvent(ctx, "lead.stage_changed", { type: "lead.stage_changed", data: { lead_id: "lead_1" } });
    await ctx.deliveryWorker.drain();

    const [request] = requestsTo(endpoint.path);
    const received = request ?? { body: new Uint8Array(), headers: {} as Record<string, string> };
    expect(received.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(verify(endpoint.secret, received)).toBeTruthy();
    expect(verify(rotated.secret, received)).toBeTruthy();
  });

  test("old secret stops signing after the grace period", async () => {
    const endpoint = await endpointFor(["lead.stage_changed"]);
    const rotatedAt = new Date();
    ctx.clock.set(rotatedAt);
    const rotated = await rotateEndpointSecret(ctx, { endpointId: endpoint.id, graceHours: 1 });
    ctx.clock.set(new Date(rotatedAt.getTime() + 2 * 3_600_000));

    await recordEvent(ctx, "lead.stage_changed", { type: "lead.stage_changed", data: {} });
    await ctx.deliveryWorker.drain();

    const [request] = requestsTo(endpoint.path);
    expect(request?.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    const timestamp = Number(request?.headers["webhook-timestamp"]);
    expect(timestamp).toBe(Math.floor(ctx.clock.now().getTime() / 1000));
    expect(rotated.secret).toStartWith("whsec_");
  });

  test("secret has 32 random bytes", async () => {
    const endpoint = await endpointFor(["call.ended"]);

    expect(Uint8Array.fromBase64(endpoint.secret.slice("whsec_".length))).toHaveLength(32);
  });
});

describe("endpoint URLs", () => {
  test.each([
    ["http://example.com/hook", "HTTPS"],
    ["https://10.0.0.1/hook", "10.0.0.1"],
    ["https://169.254.169.254/latest", "169.254.169.254"],
  ])("%s is rejected when saved", async (url, expected) => {
    const error = await createEndpoint(ctx, { url, eventTypes: ["call.ended"] }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(expected);
  });

  test("unknown event type is rejected", async () => {
    const error = await createEndpoint(ctx, { url: `${receiver.url}/x`, eventTypes: ["invoice.created"] }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain("invoice.created");
  });

  test("http URL saved behind our back fails before sending", async () => {
    const endpoint = await endpointFor(["email.bounced"]);
    const path = `/plain/${crypto.randomUUID()}`;
    await ctx.db
      .update(webhookEndpoints)
      .set({ url: `http://127.0.0.1:${receiver.port}${path}` })
      .where(eq(webhookEndpoints.id, endpoint.id));
    await recordEvent(ctx, "email.bounced", { type: "email.bounced", data: {} });

    await ctx.deliveryWorker.drain();

    const delivery = await onlyDelivery(ctx, endpoint.id);
    expect(delivery.status).toBe("failed");
    expect(delivery.statusReason).toContain("HTTPS");
    expect(requestsTo(path)).toHaveLength(0);
  });
});

describe("delivery worker", () => {
  test("slow receiver does not block others", async () => {
    const slow = await endpointFor(["meeting.scheduled"]);
    const fast = await endpointFor(["meeting.scheduled"]);
    receiver.reply(({ path }) => (path === slow.path ? { delayMs: 3_000 } : {}));
    ctx.clock.set(new Date());
    await recordEvent(ctx, "meeting.scheduled", { type: "meeting.scheduled", data: {} });
    ctx.deliveryWorker.start();
    try {
      ctx.deliveryWorker.wake();

      const fastDelivery = await waitForStatus(fast.id, "succeeded");

      expect(fastDelivery.status).toBe("succeeded");
      expect((await onlyDelivery(ctx, slow.id)).status).toBe("pending");
    } finally {
      await ctx.deliveryWorker.stop();
    }
    expect((await onlyDelivery(ctx, slow.id)).status).toBe("succeeded");
  });

  test("lease keeps a second worker off a delivery in flight", async () => {
    const endpoint = await endpointFor(["call.ended"]);
    receiver.reply(({ path }) => (path === endpoint.path ? { delayMs: 500 } : {}));
    ctx.clock.set(new Date());
    await recordEvent(ctx, "call.ended", { type: "call.ended", data: {} });

    await Promise.all([ctx.deliveryWorker.runOnce(), ctx.deliveryWorker.runOnce()]);

    expect(requestsTo(endpoint.path)).toHaveLength(1);
    const delivery = await onlyDelivery(ctx, endpoint.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attempts).toBe(1);
  });

  test("stale buffered delivery is claimed again", async () => {
    const endpoint = await endpointFor(["call.ended"]);
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let held = false;
    receiver.reply(({ path }) => {
      if (path !== endpoint.path || held) {
        return {};
      }
      held = true;
      // Holds the only slot until the test lets go, as a receiver near its timeout does.
      return {
        body: () => new ReadableStream({ start: (controller) => void firstHeld.then(() => controller.close()) }),
      };
    });
    const claimedAt = new Date();
    ctx.clock.set(claimedAt);
    for (let index = 0; index < 3; index++) {
      await recordEvent(ctx, "call.ended", { type: "call.ended", data: { index } });
    }
    const single = new DeliveryWorker({ ...ctx, deliverySettings: { ...ctx.deliverySettings, concurrency: 1 } });
    const leaseEnds = async () =>
      (await deliveriesOf(ctx, endpoint.id)).map((row) => row.leaseExpiresAt?.getTime() ?? null).sort();

    single.start();
    try {
      await waitFor(() => requestsTo(endpoint.path).length === 1);
      expect(await leaseEnds()).toEqual(Array(3).fill(claimedAt.getTime() + 60_000));
      // Later than the lease (60 s) less twice the attempt timeout (5 s): the two waiting deliveries
      // could no longer finish within their leases, so they are handed back and claimed with new ones.
      ctx.clock.advance(51_000);
      single.wake();
      const renewed = claimedAt.getTime() + 51_000 + 60_000;
      await waitFor(async () => (await leaseEnds()).filter((end) => end === renewed).length === 2);
      releaseFirst();
      await waitFor(async () => (await deliveriesOf(ctx, endpoint.id)).every((row) => row.status === "succeeded"));
    } finally {
      releaseFirst();
      await single.stop();
    }
    const ids = requestsTo(endpoint.path).map((request) => request.headers["webhook-id"]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect((await deliveriesOf(ctx, endpoint.id)).map((row) => row.attempts)).toEqual([1, 1, 1]);
  });

  test("unknown endpoint row is skipped", async () => {
    const messageId = newId("msg");
    await ctx.db.insert(outboundMessages).values({ id: messageId, eventType: "call.ended", body: "{}" });
    const id = newId("dlv");
    await ctx.db
      .insert(deliveries)
      .values({ id, messageId, target: "endpoint", endpointId: null, nextAttemptAt: ctx.clock.now() });

    await ctx.deliveryWorker.drain();

    const delivery = await readDelivery(ctx, id);
    expect(delivery.status).toBe("skipped");
    expect(delivery.attempts).toBe(0);
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await condition()) {
      return;
    }
    await Bun.sleep(25);
  }
  throw new Error("the condition did not hold within 10 s");
}

async function waitForStatus(endpointId: string, status: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [delivery] = await deliveriesOf(ctx, endpointId);
    if (delivery?.status === status) {
      return delivery;
    }
    await Bun.sleep(25);
  }
  throw new Error(`delivery to ${endpointId} did not reach ${status}`);
}
