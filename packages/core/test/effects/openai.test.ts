import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { aiAnalyticsEvents, callRoutes, incomingCalls } from "@basalt/db";
import { eq } from "drizzle-orm";
import { newId } from "../../src";
import { createTestContext, deliver, receiveSigned, type TestContext } from "../support";

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

/** 2026-03-01T11:59:00Z in Unix seconds, as OpenAI sends `created_at`. */
const createdAtSeconds = Date.parse("2026-03-01T11:59:00Z") / 1000;

const responseEvent = <Data extends Record<string, unknown>>(type: string, data: Data) => ({
  object: "event",
  id: newId("evt"),
  type,
  created_at: createdAtSeconds,
  data,
});

type SipHeader = { name: string; value: string };

const callerNumber = "+14255551212";
const calledNumber = "+18005551212";

const defaultSipHeaders: SipHeader[] = [
  { name: "From", value: `"Alice" <sip:${callerNumber}@carrier.example.com>;tag=a1b2` },
  { name: "To", value: `<sip:${calledNumber}@sip.example.com>` },
  { name: "Call-ID", value: "03782086-4ce9-44bf-8b0d-4e303d2cc590" },
];

const callIncoming = (sipHeaders: SipHeader[] = defaultSipHeaders, callId = `rtc_${crypto.randomUUID()}`) =>
  responseEvent("realtime.call.incoming", { call_id: callId, sip_headers: sipHeaders });

async function readAnalytics(eventId: string) {
  return ctx.db.select().from(aiAnalyticsEvents).where(eq(aiAnalyticsEvents.eventId, eventId));
}

async function readIncomingCalls(callId: string) {
  return ctx.db.select().from(incomingCalls).where(eq(incomingCalls.callId, callId));
}

type RouteValues = Partial<typeof callRoutes.$inferInsert> &
  Pick<typeof callRoutes.$inferInsert, "position" | "action">;

/** Inserts a call route, enabled unless `values` says otherwise, and returns its id. The name defaults to the id. */
async function addRoute(values: RouteValues): Promise<string> {
  const id = newId("route");
  await ctx.db.insert(callRoutes).values({ id, name: id, ...values });
  return id;
}

describe("openai response events", () => {
  const responseTypes = [
    { type: "response.completed", status: "completed" },
    { type: "response.failed", status: "failed" },
    { type: "response.cancelled", status: "cancelled" },
    { type: "response.incomplete", status: "incomplete" },
  ];

  test.each(responseTypes)("$type adds one analytics row", async ({ type, status }) => {
    const data = { id: "resp_abc", session_id: "sess_xyz", model: "gpt-4o-realtime", duration_ms: 3200 };

    const stored = await deliver(ctx, "openai", responseEvent(type, data));

    expect(stored.status).toBe("processed");
    expect(stored.eventType).toBe(type);
    const [row, ...others] = await readAnalytics(stored.id);
    expect(others).toHaveLength(0);
    expect(row?.eventType).toBe(type);
    expect(row?.status).toBe(status);
    expect(row?.sessionId).toBe("sess_xyz");
    expect(row?.model).toBe("gpt-4o-realtime");
    expect(row?.durationMs).toBe(3200);
    expect(row?.responseId).toBe("resp_abc");
    expect(row?.occurredAt).toEqual(new Date(createdAtSeconds * 1000));
  });

  test("minimal data leaves fields empty", async () => {
    const event = { type: "response.completed", data: { id: "resp_min" } };

    const stored = await deliver(ctx, "openai", event);

    expect(stored.status).toBe("processed");
    const [row] = await readAnalytics(stored.id);
    expect(row?.status).toBe("completed");
    expect(row?.responseId).toBe("resp_min");
    expect(row?.sessionId).toBeNull();
    expect(row?.model).toBeNull();
    expect(row?.durationMs).toBeNull();
    expect(row?.occurredAt).toEqual(stored.receivedAt);
  });

  test("redelivery adds nothing", async () => {
    const webhookId = newId("msg");
    const event = responseEvent("response.completed", { session_id: "sess_again", model: "gpt-4o", duration_ms: 10 });
    const first = await deliver(ctx, "openai", event, { id: webhookId });

    const second = await deliver(ctx, "openai", event, { id: webhookId });

    expect(second.id).toBe(first.id);
    expect(second.status).toBe("processed");
    const rows = await ctx.db.select().from(aiAnalyticsEvents).where(eq(aiAnalyticsEvents.sessionId, "sess_again"));
    expect(rows).toHaveLength(1);
  });

  test("negative duration is rejected", async () => {
    const outcome = await receiveSigned(ctx, "openai", responseEvent("response.completed", { duration_ms: -1 }));

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toContain("data.duration_ms");
  });

  test("unhandled type ignored at receive", async () => {
    const outcome = await receiveSigned(ctx, "openai", responseEvent("batch.completed", { id: "batch_1" }));

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("ignored");
    expect(outcome.reason).toContain("batch.completed");
  });
});

describe("openai realtime.call.incoming", () => {
  beforeEach(async () => {
    // Routes from earlier tests stay in the table because incoming calls refer to them. Disabling them
    // leaves each test with only the routes it adds.
    await ctx.db.update(callRoutes).set({ enabled: false });
  });

  test("matching route accepts the call", async () => {
    const routeId = await addRoute({ name: "Sales line", position: 1, matchTo: calledNumber, action: "accept" });
    const event = callIncoming();

    const stored = await deliver(ctx, "openai", event);

    expect(stored.status).toBe("processed");
    const [call, ...others] = await readIncomingCalls(event.data.call_id);
    expect(others).toHaveLength(0);
    expect(call?.eventId).toBe(stored.id);
    expect(call?.routeId).toBe(routeId);
    expect(call?.action).toBe("accept");
    expect(call?.rejectStatusCode).toBeNull();
    expect(call?.reason).toBe("matched call route Sales line");
    expect(call?.answerStatus).toBe("pending");
    expect(call?.toAddress).toBe(`sip:${calledNumber}@sip.example.com`);
    expect(call?.fromAddress).toBe(`sip:${callerNumber}@carrier.example.com`);
    expect(call?.sipHeaders).toEqual(defaultSipHeaders);
  });

  const matchingPatterns = [
    { name: "user part", matchTo: calledNumber, matchFrom: null },
    { name: "whole URI", matchTo: `sip:${calledNumber}@sip.example.com`, matchFrom: null },
    { name: "prefix wildcard", matchTo: "+1800*", matchFrom: null },
    { name: "domain wildcard", matchTo: "sip:*@SIP.example.com", matchFrom: "*@carrier.example.com" },
    { name: "lone wildcard", matchTo: "*", matchFrom: "*" },
    { name: "null patterns", matchTo: null, matchFrom: null },
    { name: "From only", matchTo: null, matchFrom: callerNumber },
  ];

  test.each(matchingPatterns)("$name pattern matches", async ({ matchTo, matchFrom }) => {
    const routeId = await addRoute({ position: 1, matchTo, matchFrom, action: "accept" });
    const event = callIncoming();

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBe(routeId);
    expect(call?.action).toBe("accept");
  });

  test("first route by position wins", async () => {
    await addRoute({ position: 20, matchTo: "+1800*", action: "accept" });
    const first = await addRoute({ position: 10, matchTo: "+1800*", action: "reject", rejectStatusCode: 486 });
    const event = callIncoming();

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBe(first);
    expect(call?.action).toBe("reject");
    expect(call?.rejectStatusCode).toBe(486);
  });

  test("disabled route is skipped", async () => {
    await addRoute({ position: 1, matchTo: calledNumber, action: "reject", enabled: false });
    const enabled = await addRoute({ position: 2, matchTo: calledNumber, action: "accept" });
    const event = callIncoming();

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBe(enabled);
    expect(call?.action).toBe("accept");
  });

  test("From mismatch falls through", async () => {
    await addRoute({ position: 1, matchTo: calledNumber, matchFrom: "+1999*", action: "accept" });
    const fallback = await addRoute({ position: 2, matchTo: null, matchFrom: null, action: "reject" });
    const event = callIncoming();

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBe(fallback);
    expect(call?.action).toBe("reject");
    expect(call?.rejectStatusCode).toBe(603);
  });

  test("lower-case header names", async () => {
    const routeId = await addRoute({ position: 1, matchTo: calledNumber, matchFrom: callerNumber, action: "accept" });
    const headers = [
      { name: "from", value: `<sip:${callerNumber}@carrier.example.com>;tag=1` },
      { name: "to", value: `sip:${calledNumber}@sip.example.com;tag=2` },
    ];
    const event = callIncoming(headers);

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBe(routeId);
    expect(call?.toAddress).toBe(`sip:${calledNumber}@sip.example.com`);
  });

  test("URI parameters do not block a match", async () => {
    const routeId = await addRoute({ position: 1, matchTo: "*@sip.example.com", action: "accept" });
    const headers = [
      { name: "From", value: `<sip:${callerNumber}@carrier.example.com;user=phone>;tag=1` },
      { name: "To", value: `<sip:${calledNumber}@sip.example.com;user=phone>` },
    ];
    const event = callIncoming(headers);

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBe(routeId);
    expect(call?.toAddress).toBe(`sip:${calledNumber}@sip.example.com`);
    expect(call?.fromAddress).toBe(`sip:${callerNumber}@carrier.example.com`);
  });

  test("no matching route rejects with 603", async () => {
    await addRoute({ position: 1, matchTo: "+1999*", action: "accept" });
    const event = callIncoming();

    const stored = await deliver(ctx, "openai", event);

    expect(stored.status).toBe("processed");
    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.routeId).toBeNull();
    expect(call?.action).toBe("reject");
    expect(call?.rejectStatusCode).toBe(603);
    expect(call?.answerStatus).toBe("pending");
    expect(call?.reason).toContain("no call route matches");
    expect(call?.reason).toContain(`To sip:${calledNumber}@sip.example.com`);
    expect(call?.reason).toContain(`From sip:${callerNumber}@carrier.example.com`);
    expect(call?.reason).toContain("603");
  });

  test("no SIP headers and no routes", async () => {
    const event = callIncoming([]);

    await deliver(ctx, "openai", event);

    const [call] = await readIncomingCalls(event.data.call_id);
    expect(call?.action).toBe("reject");
    expect(call?.rejectStatusCode).toBe(603);
    expect(call?.toAddress).toBeNull();
    expect(call?.fromAddress).toBeNull();
    expect(call?.reason).toContain("To (none) and From (none)");
  });

  test("same call_id twice ignores the second", async () => {
    const routeId = await addRoute({ position: 1, action: "accept" });
    const first = callIncoming();
    const repeat = { ...first, id: newId("evt") };
    const firstStored = await deliver(ctx, "openai", first);

    const repeatStored = await deliver(ctx, "openai", repeat);

    expect(repeatStored.id).not.toBe(firstStored.id);
    expect(firstStored.status).toBe("processed");
    expect(repeatStored.status).toBe("ignored");
    expect(repeatStored.statusReason).toContain(first.data.call_id);
    const [call, ...others] = await readIncomingCalls(first.data.call_id);
    expect(others).toHaveLength(0);
    expect(call?.eventId).toBe(firstStored.id);
    expect(call?.routeId).toBe(routeId);
  });

  test("missing call_id is rejected", async () => {
    const outcome = await receiveSigned(ctx, "openai", responseEvent("realtime.call.incoming", { sip_headers: [] }));

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toContain("data.call_id");
  });
});
