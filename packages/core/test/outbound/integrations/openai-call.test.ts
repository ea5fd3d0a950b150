import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { callRoutes, deliveries, incomingCalls, outboundMessages } from "@basalt/db";
import { and, eq } from "drizzle-orm";
import { DeliveryWorker, type EmailJob, type IntegrationSettings, newId, Outbox, urgentPriority } from "../../../src";
import { deliver } from "../../support";
import { type FakeIntegrations, startFakeIntegrations } from "../fakes/fake-integrations";
import { startFakeOpenai } from "../fakes/fake-openai";
import { attemptsOf, createOutboundContext, type OutboundTestContext, readDelivery } from "../support";

let ctx: OutboundTestContext;
let fakes: FakeIntegrations;

beforeAll(async () => {
  fakes = await startFakeIntegrations();
  ctx = await createOutboundContext({ integrations: fakes.settings });
});

beforeEach(async () => {
  // Routes from earlier tests stay because incoming calls refer to them, so each test disables them first.
  await ctx.db.update(callRoutes).set({ enabled: false });
});

afterEach(() => {
  fakes.reset();
});

afterAll(async () => {
  await fakes.stop();
  await ctx.base.database.destroy();
});

const calledNumber = "+18005551212";

/** Builds a `realtime.call.incoming` event from a caller to `calledNumber`, with a fresh call id. */
function callIncoming() {
  return {
    object: "event",
    id: newId("evt"),
    type: "realtime.call.incoming",
    created_at: Math.floor(ctx.clock.now().getTime() / 1000),
    data: {
      call_id: `rtc_${crypto.randomUUID().replaceAll("-", "")}`,
      sip_headers: [
        { name: "From", value: '"Alice" <sip:+14255551212@carrier.example.com>;tag=a1b2' },
        { name: "To", value: `<sip:${calledNumber}@sip.example.com>` },
      ],
    },
  };
}

type RouteValues = Partial<typeof callRoutes.$inferInsert> & Pick<typeof callRoutes.$inferInsert, "action">;

/** Inserts an enabled route for calls to `calledNumber`, named after its id. */
async function addRoute(values: RouteValues): Promise<string> {
  const id = newId("route");
  await ctx.db.insert(callRoutes).values({ id, name: id, position: 1, matchTo: calledNumber, ...values });
  return id;
}

/** Reads the only call-answering delivery queued while processing the given webhook event. */
async function callDeliveryOf(eventId: string) {
  const rows = await ctx.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(outboundMessages, eq(outboundMessages.id, deliveries.messageId))
    .where(and(eq(outboundMessages.eventId, eventId), eq(deliveries.target, "openai_call")));
  const [row] = rows;
  if (!row || rows.length !== 1) {
    throw new Error(`expected one call delivery for event ${eventId}, found ${rows.length}`);
  }
  return readDelivery(ctx, row.delivery.id);
}

async function readIncomingCall(callId: string) {
  const [call] = await ctx.db.select().from(incomingCalls).where(eq(incomingCalls.callId, callId));
  return call;
}

function workerWithOpenai(openai: Partial<IntegrationSettings["openai"]>): DeliveryWorker {
  const integrations = { ...fakes.settings, openai: { ...fakes.settings.openai, ...openai } };
  return new DeliveryWorker({ ...ctx, integrations });
}

describe("openai call answer", () => {
  test("route accept sends session settings", async () => {
    const sessionSettings = {
      model: "gpt-realtime",
      instructions: "You are the receptionist of Acme Corp.",
      audio: { output: { voice: "marin" } },
    };
    await addRoute({ action: "accept", sessionSettings });
    const event = callIncoming();

    const stored = await deliver(ctx.base, "openai", event);
    const queued = await callDeliveryOf(stored.id);
    await ctx.deliveryWorker.drain();

    expect(queued.priority).toBe(urgentPriority);
    expect(queued.priority).toBe(10);
    const [request, ...others] = fakes.openai.requests;
    expect(others).toHaveLength(0);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/realtime/calls/${event.data.call_id}/accept`);
    expect(request?.headers.authorization).toBe(`Bearer ${fakes.openai.apiKey}`);
    expect(request?.json).toEqual({ type: "realtime", ...sessionSettings });

    const delivery = await callDeliveryOf(stored.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toBe("call accepted");
    const [attempt] = await attemptsOf(ctx, delivery.id);
    expect(attempt?.statusCode).toBe(200);
    expect(attempt?.responseBody).toBe("");
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("answered");
  });

  test("route type cannot replace realtime", async () => {
    await addRoute({ action: "accept", sessionSettings: { type: "transcription", instructions: "Listen only." } });
    const event = callIncoming();

    await deliver(ctx.base, "openai", event);
    await ctx.deliveryWorker.drain();

    const [request] = fakes.openai.requests;
    expect(request?.json).toEqual({ type: "realtime", instructions: "Listen only." });
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("answered");
  });

  test("route reject sends its status code", async () => {
    await addRoute({ action: "reject", rejectStatusCode: 486 });
    const event = callIncoming();

    const stored = await deliver(ctx.base, "openai", event);
    await ctx.deliveryWorker.drain();

    const [request, ...others] = fakes.openai.requests;
    expect(others).toHaveLength(0);
    expect(request?.path).toBe(`/realtime/calls/${event.data.call_id}/reject`);
    expect(request?.json).toEqual({ status_code: 486 });
    const delivery = await callDeliveryOf(stored.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toBe("call rejected");
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("answered");
  });

  test("unrouted call is rejected with 603", async () => {
    const event = callIncoming();

    await deliver(ctx.base, "openai", event);
    await ctx.deliveryWorker.drain();

    const [request] = fakes.openai.requests;
    expect(request?.path).toBe(`/realtime/calls/${event.data.call_id}/reject`);
    expect(request?.json).toEqual({ status_code: 603 });
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.routeId).toBeNull();
    expect(call?.answerStatus).toBe("answered");
  });

  test("call is claimed before older deliveries", async () => {
    await addRoute({ action: "accept" });
    const earlier = new Date(ctx.clock.now().getTime() - 60_000);
    const email: EmailJob = {
      to: "[email protected]",
      subject: "Your call",
      text: "We will call you back.",
      leadId: null,
      kind: "notification",
    };
    const emailIds = await ctx.db.transaction(async (tx) => {
      const outbox = new Outbox(tx, earlier);
      return [
        await outbox.queueIntegration("resend_email", email),
        await outbox.queueIntegration("resend_email", email),
      ];
    });
    const event = callIncoming();
    const stored = await deliver(ctx.base, "openai", event);
    const singleSlot = { ...ctx.deliverySettings, concurrency: 1 };

    const claimed = await new DeliveryWorker({ ...ctx, deliverySettings: singleSlot }).runOnce();

    expect(claimed).toBe(1);
    expect(fakes.openai.requests).toHaveLength(1);
    expect(fakes.resend.requests).toHaveLength(0);
    expect((await callDeliveryOf(stored.id)).status).toBe("succeeded");
    for (const id of emailIds) {
      const waiting = await readDelivery(ctx, id);
      expect(waiting.status).toBe("pending");
      expect(waiting.attempts).toBe(0);
    }

    await ctx.deliveryWorker.drain();

    expect(fakes.resend.requests).toHaveLength(2);
  });
});

describe("openai call failures", () => {
  test("server errors fail after short retries", async () => {
    await addRoute({ action: "accept" });
    const event = callIncoming();
    fakes.openai.respondNext([{ status: 500 }, { status: 502 }, { status: 503 }]);
    const stored = await deliver(ctx.base, "openai", event);

    await ctx.deliveryWorker.drain();
    const first = await callDeliveryOf(stored.id);
    ctx.clock.advance(1_200);
    await ctx.deliveryWorker.drain();
    const second = await callDeliveryOf(stored.id);
    ctx.clock.advance(2_400);
    await ctx.deliveryWorker.drain();
    ctx.clock.advance(3_600_000);
    await ctx.deliveryWorker.drain();

    expect(first.status).toBe("pending");
    expect(first.attempts).toBe(1);
    const firstWaitMs = (first.nextAttemptAt?.getTime() ?? 0) - (first.updatedAt?.getTime() ?? 0);
    expect(firstWaitMs).toBeGreaterThanOrEqual(800);
    expect(firstWaitMs).toBeLessThanOrEqual(1_200);
    expect(second.status).toBe("pending");
    expect(second.attempts).toBe(2);
    const secondWaitMs = (second.nextAttemptAt?.getTime() ?? 0) - (second.updatedAt?.getTime() ?? 0);
    expect(secondWaitMs).toBeGreaterThanOrEqual(1_600);
    expect(secondWaitMs).toBeLessThanOrEqual(2_400);

    expect(fakes.openai.requests).toHaveLength(3);
    const delivery = await callDeliveryOf(stored.id);
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts).toBe(3);
    expect(delivery.statusReason).toBe("OpenAI responded 503 to the accept");
    const attempts = await attemptsOf(ctx, delivery.id);
    expect(attempts.map((attempt) => attempt.statusCode)).toEqual([500, 502, 503]);
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("failed");
  });

  test("retry answers the call", async () => {
    await addRoute({ action: "accept" });
    const event = callIncoming();
    fakes.openai.respondNext({ status: 500, body: { error: { message: "The server had an error." } } });
    const stored = await deliver(ctx.base, "openai", event);

    await ctx.deliveryWorker.drain();
    ctx.clock.advance(1_200);
    await ctx.deliveryWorker.drain();

    const delivery = await callDeliveryOf(stored.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attempts).toBe(2);
    const [failed] = await attemptsOf(ctx, delivery.id);
    expect(failed?.responseBody).toBe('{"error":{"message":"The server had an error."}}');
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("answered");
  });

  test("ended call fails at once", async () => {
    await addRoute({ action: "accept" });
    const event = callIncoming();
    fakes.openai.endCall(event.data.call_id);
    const stored = await deliver(ctx.base, "openai", event);

    await ctx.deliveryWorker.drain();
    ctx.clock.advance(60_000);
    await ctx.deliveryWorker.drain();

    expect(fakes.openai.requests).toHaveLength(1);
    const delivery = await callDeliveryOf(stored.id);
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts).toBe(1);
    expect(delivery.statusReason).toBe("OpenAI responded 404 to the accept");
    const [attempt] = await attemptsOf(ctx, delivery.id);
    expect(attempt?.statusCode).toBe(404);
    expect(attempt?.responseBody).toContain("not_found");
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("failed");
  });

  test("missing key skips the answer", async () => {
    await addRoute({ action: "accept" });
    const event = callIncoming();
    const stored = await deliver(ctx.base, "openai", event);

    await workerWithOpenai({ apiKey: undefined }).drain();

    expect(fakes.openai.requests).toHaveLength(0);
    const delivery = await callDeliveryOf(stored.id);
    expect(delivery.status).toBe("skipped");
    expect(delivery.statusReason).toStartWith("OPENAI_API_KEY is not set");
    expect(delivery.attempts).toBe(0);
    expect(await attemptsOf(ctx, delivery.id)).toHaveLength(0);
    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("skipped");
  });

  test("stopped server logs the network error", async () => {
    await addRoute({ action: "accept" });
    const event = callIncoming();
    const stopped = await startFakeOpenai();
    await stopped.stop();
    const stored = await deliver(ctx.base, "openai", event);

    await workerWithOpenai({ apiUrl: stopped.url }).drain();

    const waiting = await callDeliveryOf(stored.id);
    expect(waiting.status).toBe("pending");
    expect(waiting.lastError).toStartWith("OpenAI request failed: ");
    const [attempt] = await attemptsOf(ctx, waiting.id);
    expect(attempt?.statusCode).toBeNull();
    expect(attempt?.error).toContain("Unable to connect");

    ctx.clock.advance(1_200);
    await ctx.deliveryWorker.drain();

    const call = await readIncomingCall(event.data.call_id);
    expect(call?.answerStatus).toBe("answered");
  });
});
