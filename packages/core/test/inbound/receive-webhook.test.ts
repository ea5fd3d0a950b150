import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Database, type EventSource, type EventStatus, webhookEvents } from "@basalt/db";
import { and, count, eq } from "drizzle-orm";
import {
  createSecret,
  type ReceiveOutcome,
  receiveWebhook,
  SecretCipher,
  SecretStore,
  silentLogger,
  sourceDefinitions,
} from "../../src";
import { createTestContext, readEvent, receiveSigned, signedHeaders, type TestContext } from "../support";

type StoredOutcome = Extract<ReceiveOutcome, { kind: "stored" }>;

let ctx: TestContext;
/** A context with no secret for any source. */
let unconfigured: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
  unconfigured = await createTestContext({ environmentSecrets: {} });
}, 60_000);

afterAll(async () => {
  await ctx.database.destroy();
  await unconfigured.database.destroy();
});

const encoder = new TextEncoder();

/** A secret of the right kind for each source that is not the one the test context verifies with. */
const wrongSecrets: Record<EventSource, string> = {
  surge: "wrong-secret-0123456789abcdef0123",
  basaltecho: "wrong-secret-0123456789abcdef0123",
  resend: `whsec_${new Uint8Array(32).fill(1).toBase64()}`,
  openai: `whsec_${new Uint8Array(32).fill(2).toBase64()}`,
};

const surgePayment = (paymentId: string, type = "payment.confirmed", overrides: Record<string, unknown> = {}) => ({
  type,
  data: { id: paymentId, external_id: "inv_1", amount: "499.00", currency: "USDC", ...overrides },
});

const callConnected = (eventId?: string) => ({
  type: "call_connected",
  leadId: "lead_1",
  ...(eventId === undefined ? {} : { eventId }),
});

const emailDelivered = () => ({ type: "email.delivered", data: { email_id: `msg_${crypto.randomUUID()}` } });

const responseCompleted = () => ({ type: "response.completed", data: { id: `resp_${crypto.randomUUID()}` } });

/** A handled event of each source, new on every call. */
const handledEvents: Record<EventSource, () => unknown> = {
  surge: () => surgePayment(`pay_${crypto.randomUUID()}`),
  basaltecho: () => callConnected(`evt_${crypto.randomUUID()}`),
  resend: emailDelivered,
  openai: responseCompleted,
};

function stored(outcome: ReceiveOutcome): StoredOutcome {
  if (outcome.kind !== "stored") {
    throw new Error(`expected a stored event, got ${JSON.stringify(outcome)}`);
  }
  return outcome;
}

/** Signs exact bytes for a source and receives them. */
function receiveBytes(
  target: TestContext,
  source: EventSource,
  body: Uint8Array,
  options: { id?: string } = {},
): Promise<ReceiveOutcome> {
  const headers = signedHeaders(source, body, { now: target.clock.now(), id: options.id });
  return receiveWebhook(target, { source, body, headers });
}

async function countEvents(db: Database): Promise<number> {
  const [row] = await db.select({ total: count() }).from(webhookEvents);
  return row?.total ?? 0;
}

async function countByKey(source: EventSource, idempotencyKey: string): Promise<number> {
  const [row] = await ctx.db
    .select({ total: count() })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.source, source), eq(webhookEvents.idempotencyKey, idempotencyKey)));
  return row?.total ?? 0;
}

function notifications(eventId: string): number {
  return ctx.pendingEvents.filter((id) => id === eventId).length;
}

describe("receiveWebhook outcomes", () => {
  test.each(["surge", "resend", "openai"] as const)("%s without secret is not_configured", async (source) => {
    const before = await countEvents(unconfigured.db);

    const outcome = await receiveSigned(unconfigured, source, handledEvents[source]());

    expect(outcome.kind).toBe("not_configured");
    if (outcome.kind === "not_configured") {
      expect(outcome.message).toContain(sourceDefinitions[source].secretEnv.join(" or "));
    }
    expect(await countEvents(unconfigured.db)).toBe(before);
  });

  test("not_configured comes before the signature", async () => {
    const body = encoder.encode("not json");
    const headers = new Headers({ "x-surge-signature": "00".repeat(32) });

    const outcome = await receiveWebhook(unconfigured, { source: "surge", body, headers });

    expect(outcome.kind).toBe("not_configured");
  });

  test("basaltecho without secret accepts unsigned", async () => {
    const body = encoder.encode(JSON.stringify(callConnected(`evt_${crypto.randomUUID()}`)));

    const outcome = stored(await receiveWebhook(unconfigured, { source: "basaltecho", body, headers: new Headers() }));

    expect(outcome.status).toBe("pending");
    expect(outcome.duplicate).toBe(false);
    expect(unconfigured.pendingEvents).toContain(outcome.eventId);
    const event = await readEvent(unconfigured.db, outcome.eventId);
    expect(event.verifiedBy).toBe("unsigned");
    expect(event.status).toBe("pending");
  });

  test("basaltecho with unusable secret refuses unsigned", async () => {
    const locked = await createTestContext({ environmentSecrets: {} });
    try {
      await createSecret(locked, { source: "basaltecho" });
      const store = new SecretStore({
        db: locked.db,
        cipher: await SecretCipher.fromBase64(SecretCipher.generateKey()),
        clock: locked.clock,
        logger: silentLogger,
        environmentSecrets: {},
      });
      const body = encoder.encode(JSON.stringify(callConnected(`evt_${crypto.randomUUID()}`)));

      const outcome = await receiveWebhook(
        { ...locked, secrets: store },
        { source: "basaltecho", body, headers: new Headers() },
      );

      expect(outcome.kind).toBe("not_configured");
      if (outcome.kind === "not_configured") {
        expect(outcome.message).toContain("SECRETS_ENCRYPTION_KEY");
      }
      expect(await countEvents(locked.db)).toBe(0);
    } finally {
      await locked.database.destroy();
    }
  });

  test("basaltecho with secret rejects unsigned", async () => {
    const body = encoder.encode(JSON.stringify(callConnected(`evt_${crypto.randomUUID()}`)));
    const before = await countEvents(ctx.db);

    const outcome = await receiveWebhook(ctx, { source: "basaltecho", body, headers: new Headers() });

    expect(outcome.kind).toBe("unauthorized");
    if (outcome.kind === "unauthorized") {
      expect(outcome.reason).toBe("missing_signature");
    }
    expect(await countEvents(ctx.db)).toBe(before);
  });

  test.each(["surge", "basaltecho", "resend", "openai"] as const)(
    "%s bad signature is unauthorized",
    async (source) => {
      const body = encoder.encode(JSON.stringify(handledEvents[source]()));
      const headers = signedHeaders(source, body, { secret: wrongSecrets[source], now: ctx.clock.now() });
      const before = await countEvents(ctx.db);
      const notified = ctx.pendingEvents.length;

      const outcome = await receiveWebhook(ctx, { source, body, headers });

      expect(outcome.kind).toBe("unauthorized");
      if (outcome.kind === "unauthorized") {
        expect(outcome.reason).toBe("invalid_signature");
      }
      expect(await countEvents(ctx.db)).toBe(before);
      expect(ctx.pendingEvents).toHaveLength(notified);
    },
  );

  test("signature checked before the body", async () => {
    const body = encoder.encode("not json");
    const headers = signedHeaders("surge", body, { secret: wrongSecrets.surge });
    const before = await countEvents(ctx.db);

    const outcome = await receiveWebhook(ctx, { source: "surge", body, headers });

    expect(outcome.kind).toBe("unauthorized");
    expect(await countEvents(ctx.db)).toBe(before);
  });

  test("old resend timestamp is unauthorized", async () => {
    const body = encoder.encode(JSON.stringify(emailDelivered()));
    const sixMinutesAgo = new Date(ctx.clock.now().getTime() - 6 * 60_000);
    const headers = signedHeaders("resend", body, { now: sixMinutesAgo });

    const outcome = await receiveWebhook(ctx, { source: "resend", body, headers });

    expect(outcome.kind).toBe("unauthorized");
    if (outcome.kind === "unauthorized") {
      expect(outcome.reason).toBe("timestamp_out_of_tolerance");
    }
  });

  test("non-JSON body is rejected", async () => {
    const notified = ctx.pendingEvents.length;

    const outcome = stored(await receiveBytes(ctx, "surge", encoder.encode(`{"type": "payment.confirmed",`)));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toContain("not valid JSON");
    expect(outcome.duplicate).toBe(false);
    expect(ctx.pendingEvents).toHaveLength(notified);
    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.status).toBe("rejected");
    expect(event.statusReason).toBe(outcome.reason);
    expect(event.nextAttemptAt).toBeNull();
  });

  test("non-UTF-8 body is rejected", async () => {
    const outcome = stored(await receiveBytes(ctx, "basaltecho", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toContain("UTF-8");
  });

  const schemaFailures: { source: EventSource; payload: unknown; field: string }[] = [
    {
      source: "surge",
      payload: surgePayment(`pay_${crypto.randomUUID()}`, "payment.confirmed", { amount: "lots" }),
      field: "data.amount",
    },
    {
      source: "surge",
      payload: { type: "payment.confirmed", data: { id: "pay_no_invoice", amount: "1", currency: "USDC" } },
      field: "data.external_id",
    },
    { source: "surge", payload: { event: "receipt.status_updated", status: "paid" }, field: "receiptId" },
    {
      source: "basaltecho",
      payload: {
        type: "tool_call",
        name: "schedule_meeting",
        leadId: "lead_1",
        args: { datetime: "2026-03-01T15:00:00Z", timezone: "Mars/Olympus" },
      },
      field: "args.timezone",
    },
    { source: "basaltecho", payload: { type: "call_ended", leadId: "lead_1", durationSec: -5 }, field: "durationSec" },
    { source: "resend", payload: { type: "email.opened", data: {} }, field: "data.email_id" },
    { source: "openai", payload: { type: "realtime.call.incoming", data: {} }, field: "data.call_id" },
    { source: "openai", payload: { type: "response.completed" }, field: "data" },
  ];

  test.each(schemaFailures)("$source schema failure names $field", async ({ source, payload, field }) => {
    const notified = ctx.pendingEvents.length;

    const outcome = stored(await receiveSigned(ctx, source, payload));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toStartWith(`${field}: `);
    expect(ctx.pendingEvents).toHaveLength(notified);
    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.status).toBe("rejected");
    expect(event.statusReason).toBe(outcome.reason);
  });

  const unhandledEvents: { source: EventSource; payload: unknown; eventType: string }[] = [
    {
      source: "surge",
      payload: { type: "payment.refunded", data: { id: `pay_${crypto.randomUUID()}` } },
      eventType: "payment.refunded",
    },
    {
      source: "basaltecho",
      payload: { type: "transcript_ready", eventId: `evt_${crypto.randomUUID()}` },
      eventType: "transcript_ready",
    },
    {
      source: "basaltecho",
      payload: { type: "tool_call", name: "send_sms", eventId: `evt_${crypto.randomUUID()}` },
      eventType: "tool_call.send_sms",
    },
    { source: "resend", payload: { type: "contact.created", data: {} }, eventType: "contact.created" },
    { source: "openai", payload: { type: "batch.completed", data: {} }, eventType: "batch.completed" },
  ];

  test.each(unhandledEvents)("$source unhandled $eventType is ignored", async ({ source, payload, eventType }) => {
    const notified = ctx.pendingEvents.length;

    const outcome = stored(await receiveSigned(ctx, source, payload));

    expect(outcome.status).toBe("ignored");
    expect(outcome.eventType).toBe(eventType);
    expect(outcome.reason).not.toBeNull();
    expect(ctx.pendingEvents).toHaveLength(notified);
    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.status).toBe("ignored");
    expect(event.nextAttemptAt).toBeNull();
  });

  test.each(["surge", "basaltecho", "resend", "openai"] as const)("%s handled event is pending", async (source) => {
    const outcome = stored(await receiveSigned(ctx, source, handledEvents[source]()));

    expect(outcome.status).toBe("pending");
    expect(outcome.duplicate).toBe(false);
    expect(outcome.reason).toBeNull();
    expect(notifications(outcome.eventId)).toBe(1);
    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.status).toBe("pending");
    expect(event.verifiedBy).toBe("env");
    expect(event.attempts).toBe(0);
    expect(event.nextAttemptAt).toEqual(event.receivedAt);
  });

  test.each(["surge", "basaltecho", "resend", "openai"] as const)("%s redelivery is a duplicate", async (source) => {
    const body = encoder.encode(JSON.stringify(handledEvents[source]()));
    const messageId = `msg_${crypto.randomUUID()}`;
    const first = stored(await receiveBytes(ctx, source, body, { id: messageId }));

    const second = stored(await receiveBytes(ctx, source, body, { id: messageId }));

    expect(second.duplicate).toBe(true);
    expect(second.eventId).toBe(first.eventId);
    expect(second.status).toBe("pending");
    expect(notifications(first.eventId)).toBe(1);
    const event = await readEvent(ctx.db, first.eventId);
    expect(await countByKey(source, event.idempotencyKey)).toBe(1);
  });

  test("receipt replay under new delivery header is duplicate", async () => {
    const body = encoder.encode(
      JSON.stringify({ event: "receipt.status_updated", receiptId: `rcpt_${crypto.randomUUID()}`, status: "paid" }),
    );
    const send = (delivery: string) => {
      const headers = signedHeaders("surge", body);
      headers.set("x-portalpay-delivery", delivery);
      return receiveWebhook(ctx, { source: "surge", body, headers });
    };
    const first = stored(await send("dlv_first"));

    const replay = stored(await send("dlv_forged"));

    expect(replay.duplicate).toBe(true);
    expect(replay.eventId).toBe(first.eventId);
  });

  test("rejected body redelivery is duplicate", async () => {
    const body = encoder.encode("definitely not json");
    const first = stored(await receiveBytes(ctx, "surge", body));

    const second = stored(await receiveBytes(ctx, "surge", body));

    expect(second.duplicate).toBe(true);
    expect(second.eventId).toBe(first.eventId);
    expect(second.status).toBe("rejected");
    expect(second.reason).toBe(first.reason);
  });
});

describe("receiveWebhook dedupe keys", () => {
  test("surge keys by payment id", async () => {
    const paymentId = `pay_${crypto.randomUUID()}`;

    const confirmed = stored(await receiveSigned(ctx, "surge", surgePayment(paymentId, "payment.confirmed")));
    const succeeded = stored(await receiveSigned(ctx, "surge", surgePayment(paymentId, "payment.succeeded")));

    expect(succeeded.duplicate).toBe(true);
    expect(succeeded.eventId).toBe(confirmed.eventId);
    expect(succeeded.eventType).toBe("payment.confirmed");
    expect((await readEvent(ctx.db, confirmed.eventId)).idempotencyKey).toBe(`payment:${paymentId}`);
    expect(await countByKey("surge", `payment:${paymentId}`)).toBe(1);
  });

  test("basaltecho keys by eventId", async () => {
    const eventId = `evt_${crypto.randomUUID()}`;

    const first = stored(await receiveSigned(ctx, "basaltecho", callConnected(eventId)));
    const second = stored(await receiveSigned(ctx, "basaltecho", { ...callConnected(eventId), ts: 1_772_366_400 }));

    expect(second.duplicate).toBe(true);
    expect(second.eventId).toBe(first.eventId);
    expect((await readEvent(ctx.db, first.eventId)).idempotencyKey).toBe(`event:${eventId}`);
  });

  test("basaltecho without eventId keys by body hash", async () => {
    const body = encoder.encode(JSON.stringify({ ...callConnected(), callId: `call_${crypto.randomUUID()}` }));
    const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex");

    const first = stored(await receiveBytes(ctx, "basaltecho", body));
    const again = stored(await receiveBytes(ctx, "basaltecho", body));
    const reformatted = stored(
      await receiveBytes(ctx, "basaltecho", encoder.encode(`${new TextDecoder().decode(body)} `)),
    );

    expect((await readEvent(ctx.db, first.eventId)).idempotencyKey).toBe(`body-sha256:${hash}`);
    expect(again.duplicate).toBe(true);
    expect(again.eventId).toBe(first.eventId);
    expect(reformatted.duplicate).toBe(false);
    expect(reformatted.eventId).not.toBe(first.eventId);
  });

  test.each([
    ["resend", "svix"],
    ["openai", "webhook"],
  ] as const)("%s keys by %s-id", async (source, prefix) => {
    const messageId = `msg_${crypto.randomUUID()}`;

    const first = stored(await receiveSigned(ctx, source, handledEvents[source](), { id: messageId }));
    const otherBody = stored(await receiveSigned(ctx, source, handledEvents[source](), { id: messageId }));
    const otherId = stored(await receiveSigned(ctx, source, handledEvents[source]()));

    expect((await readEvent(ctx.db, first.eventId)).idempotencyKey).toBe(`${prefix}:${messageId}`);
    expect(otherBody.duplicate).toBe(true);
    expect(otherBody.eventId).toBe(first.eventId);
    expect(otherId.duplicate).toBe(false);
  });

  test("rejected body keeps payment key free", async () => {
    const paymentId = `pay_${crypto.randomUUID()}`;
    const rejected = stored(
      await receiveSigned(ctx, "surge", surgePayment(paymentId, "payment.confirmed", { amount: "n/a" })),
    );

    const corrected = stored(await receiveSigned(ctx, "surge", surgePayment(paymentId)));

    expect(rejected.status).toBe("rejected");
    expect(corrected.status).toBe("pending");
    expect(corrected.duplicate).toBe(false);
    expect(corrected.eventId).not.toBe(rejected.eventId);
    expect((await readEvent(ctx.db, rejected.eventId)).idempotencyKey).toStartWith("body-sha256:");
    expect(await countByKey("surge", `payment:${paymentId}`)).toBe(1);
  });

  test("rejected body keeps svix-id free", async () => {
    const messageId = `msg_${crypto.randomUUID()}`;
    const rejected = stored(
      await receiveSigned(ctx, "resend", { type: "email.delivered", data: {} }, { id: messageId }),
    );

    const corrected = stored(await receiveSigned(ctx, "resend", emailDelivered(), { id: messageId }));

    expect(rejected.status).toBe("rejected");
    expect(corrected.status).toBe("pending");
    expect(corrected.duplicate).toBe(false);
    expect(await countByKey("resend", `svix:${messageId}`)).toBe(1);
  });
});

describe("receiveWebhook concurrent deliveries", () => {
  const cases: { source: EventSource; copies: number }[] = [
    { source: "surge", copies: 2 },
    { source: "surge", copies: 20 },
    { source: "basaltecho", copies: 20 },
    { source: "resend", copies: 2 },
    { source: "openai", copies: 20 },
  ];

  test.each(cases)("$copies identical $source deliveries store one row", async ({ source, copies }) => {
    const body = encoder.encode(JSON.stringify(handledEvents[source]()));
    const messageId = `msg_${crypto.randomUUID()}`;

    const outcomes = await Promise.all(
      Array.from({ length: copies }, () => receiveBytes(ctx, source, body, { id: messageId })),
    );

    const storedOutcomes = outcomes.map(stored);
    const ids = [...new Set(storedOutcomes.map((outcome) => outcome.eventId))];
    expect(ids).toHaveLength(1);
    expect(storedOutcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(1);
    expect(storedOutcomes.filter((outcome) => outcome.duplicate)).toHaveLength(copies - 1);
    expect(storedOutcomes.every((outcome) => outcome.status === "pending")).toBe(true);
    for (const id of ids) {
      expect(notifications(id)).toBe(1);
      const event = await readEvent(ctx.db, id);
      expect(await countByKey(source, event.idempotencyKey)).toBe(1);
    }
  });

  test("identical rejected deliveries store one row", async () => {
    const body = encoder.encode(`{"broken": ${crypto.randomUUID()}`);

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => receiveBytes(ctx, "surge", body)));

    const storedOutcomes = outcomes.map(stored);
    expect(new Set(storedOutcomes.map((outcome) => outcome.eventId)).size).toBe(1);
    expect(storedOutcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(1);
    expect(storedOutcomes.every((outcome) => outcome.status === "rejected")).toBe(true);
  });
});

describe("receiveWebhook stored bodies", () => {
  const eventJson = () => JSON.stringify(callConnected(`evt_${crypto.randomUUID()}`)).slice(0, -1);

  const bodies: { name: string; body: () => Uint8Array; status: EventStatus }[] = [
    { name: "UTF-8 BOM", body: () => encoder.encode(`\uFEFF${eventJson()}}`), status: "pending" },
    {
      name: "escaped slashes",
      body: () => encoder.encode(`${eventJson()},"url":"https:\\/\\/example.com\\/a"}`),
      status: "pending",
    },
    {
      name: "non-ASCII text",
      body: () => encoder.encode(`${eventJson()},"note":"José Ñandú 日本 🎉 \\u00e9"}`),
      status: "pending",
    },
    { name: "trailing CRLF", body: () => encoder.encode(`${eventJson()}}\r\n`), status: "pending" },
    { name: "NUL escape", body: () => encoder.encode(`${eventJson()},"note":"a\\u0000b"}`), status: "pending" },
    {
      name: "invalid UTF-8",
      body: () => new Uint8Array([0xef, 0xbb, 0xbf, 0xff, 0x00, 0x80, 0x0d, 0x0a]),
      status: "rejected",
    },
  ];

  test.each(bodies)("$name body kept byte for byte", async ({ body, status }) => {
    const bytes = body();

    const outcome = stored(await receiveBytes(ctx, "basaltecho", bytes));

    expect(outcome.status).toBe(status);
    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.body).toEqual(bytes);
  });
});

describe("receiveWebhook stored headers", () => {
  test("surge keeps descriptive headers only", async () => {
    const body = encoder.encode(JSON.stringify(handledEvents.surge()));
    const headers = signedHeaders("surge", body);
    headers.set("x-basaltsurge-signature", "sha256=00");
    headers.set("x-portalpay-signature", "00");
    headers.set("authorization", "Bearer secret-token");
    headers.set("cookie", "session=secret");
    headers.set("x-request-id", "req_1");
    headers.set("user-agent", "Surge-Webhooks/1.0");

    const outcome = stored(await receiveWebhook(ctx, { source: "surge", body, headers }));

    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.headers).toEqual({
      "content-type": "application/json",
      "user-agent": "Surge-Webhooks/1.0",
      "x-request-id": "req_1",
    });
  });

  test.each([
    ["resend", "svix"],
    ["openai", "webhook"],
  ] as const)("%s keeps id and timestamp only", async (source, prefix) => {
    const body = encoder.encode(JSON.stringify(handledEvents[source]()));
    const headers = signedHeaders(source, body, { now: ctx.clock.now() });

    const outcome = stored(await receiveWebhook(ctx, { source, body, headers }));

    const event = await readEvent(ctx.db, outcome.eventId);
    expect(Object.keys(event.headers).sort()).toEqual(["content-type", `${prefix}-id`, `${prefix}-timestamp`]);
    expect(event.headers[`${prefix}-id`]).toBe(headers.get(`${prefix}-id`) ?? "");
    expect(JSON.stringify(event.headers)).not.toContain("v1,");
  });

  test("basaltecho drops its signature header", async () => {
    const outcome = stored(await receiveSigned(ctx, "basaltecho", handledEvents.basaltecho()));

    const event = await readEvent(ctx.db, outcome.eventId);
    expect(event.headers).toEqual({ "content-type": "application/json" });
  });
});

describe("receiveWebhook hostile values", () => {
  const hostile: { name: string; source: EventSource; payload: () => unknown; status: EventStatus }[] = [
    {
      name: "NUL in event type",
      source: "basaltecho",
      payload: () => ({ type: "call\u0000connected", eventId: crypto.randomUUID() }),
      status: "ignored",
    },
    {
      name: "NUL in tool name",
      source: "basaltecho",
      payload: () => ({ type: "tool_call", name: "x\u0000", eventId: crypto.randomUUID() }),
      status: "ignored",
    },
    {
      name: "NUL in ignored eventId",
      source: "basaltecho",
      payload: () => ({ type: "transcript_ready", eventId: `a\u0000${crypto.randomUUID()}` }),
      status: "ignored",
    },
    {
      name: "NUL in handled eventId",
      source: "basaltecho",
      payload: () => callConnected(`a\u0000${crypto.randomUUID()}`),
      status: "rejected",
    },
    {
      name: "NUL in leadId",
      source: "basaltecho",
      payload: () => ({ ...callConnected(crypto.randomUUID()), leadId: "lead\u0000" }),
      status: "rejected",
    },
    {
      name: "unpaired surrogate in eventId",
      source: "basaltecho",
      payload: () => ({ type: "transcript_ready", eventId: `\ud800${crypto.randomUUID()}` }),
      status: "ignored",
    },
    {
      name: "10 KB ignored eventId",
      source: "basaltecho",
      payload: () => ({ type: "transcript_ready", eventId: crypto.randomUUID().repeat(300) }),
      status: "ignored",
    },
    {
      name: "10 KB handled eventId",
      source: "basaltecho",
      payload: () => callConnected(crypto.randomUUID().repeat(300)),
      status: "rejected",
    },
    {
      name: "1 MB event type",
      source: "basaltecho",
      payload: () => ({ type: "t".repeat(1_000_000), eventId: crypto.randomUUID() }),
      status: "ignored",
    },
    {
      name: "NUL in surge event type",
      source: "surge",
      payload: () => ({ type: "payment.\u0000", data: { id: crypto.randomUUID() } }),
      status: "ignored",
    },
    {
      name: "NUL in surge payment id",
      source: "surge",
      payload: () => surgePayment(`pay\u0000${crypto.randomUUID()}`),
      status: "rejected",
    },
    {
      name: "NUL in surge tx hash",
      source: "surge",
      payload: () => surgePayment(crypto.randomUUID(), "payment.confirmed", { tx_hash: "0x\u0000" }),
      status: "rejected",
    },
    {
      name: "NUL in resend email type",
      source: "resend",
      payload: () => ({ type: "email.\u0000", data: { email_id: "msg_1" } }),
      status: "rejected",
    },
    {
      name: "NUL in openai event type",
      source: "openai",
      payload: () => ({ type: "realtime\u0000", data: {} }),
      status: "ignored",
    },
    {
      name: "NUL in openai SIP header",
      source: "openai",
      payload: () => ({
        type: "realtime.call.incoming",
        data: { call_id: "call_1", sip_headers: [{ name: "To", value: "\u0000" }] },
      }),
      status: "rejected",
    },
    {
      name: "Unix time 1e20",
      source: "surge",
      payload: () => ({ ...surgePayment(crypto.randomUUID()), created_at: 1e20 }),
      status: "rejected",
    },
    {
      name: "year 0 time",
      source: "surge",
      payload: () => ({ ...surgePayment(crypto.randomUUID()), created_at: "0000-01-01T00:00:00Z" }),
      status: "rejected",
    },
    {
      name: "negative year time",
      source: "resend",
      payload: () => ({ ...emailDelivered(), created_at: "-000001-01-01T00:00:00Z" }),
      status: "rejected",
    },
  ];

  test.each(hostile)("$name is stored as $status", async ({ source, payload, status }) => {
    const body = encoder.encode(JSON.stringify(payload()));
    const messageId = `msg_${crypto.randomUUID()}`;

    const first = stored(await receiveBytes(ctx, source, body, { id: messageId }));
    const again = stored(await receiveBytes(ctx, source, body, { id: messageId }));

    expect(first.status).toBe(status);
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.eventId).toBe(first.eventId);
    const event = await readEvent(ctx.db, first.eventId);
    expect(event.status).toBe(status);
    expect(event.body).toEqual(body);
  });

  test("long event type is cut", async () => {
    const outcome = stored(await receiveSigned(ctx, "openai", { type: "x".repeat(5_000), data: {} }));

    expect(outcome.eventType).toHaveLength(200);
    expect(outcome.eventType).toEndWith("…");
    expect(outcome.reason?.length).toBeLessThanOrEqual(1_000);
  });

  test("NUL in rejected field is named", async () => {
    const outcome = stored(await receiveSigned(ctx, "surge", surgePayment(`pay\u0000${crypto.randomUUID()}`)));

    expect(outcome.reason).toBe("data.id: must not contain NUL characters or unpaired UTF-16 surrogates");
  });

  test("distinct unpaired surrogates stay distinct", async () => {
    const suffix = crypto.randomUUID();

    const high = stored(
      await receiveSigned(ctx, "basaltecho", { type: "transcript_ready", eventId: `\ud800${suffix}` }),
    );
    const low = stored(
      await receiveSigned(ctx, "basaltecho", { type: "transcript_ready", eventId: `\udc00${suffix}` }),
    );
    const replaced = stored(
      await receiveSigned(ctx, "basaltecho", { type: "transcript_ready", eventId: `\ufffd${suffix}` }),
    );

    expect(low.duplicate).toBe(false);
    expect(replaced.duplicate).toBe(false);
    expect(new Set([high.eventId, low.eventId, replaced.eventId]).size).toBe(3);
  });

  test("distinct NUL eventIds stay distinct", async () => {
    const suffix = crypto.randomUUID();

    const first = stored(
      await receiveSigned(ctx, "basaltecho", { type: "transcript_ready", eventId: `a\u0000${suffix}` }),
    );
    const second = stored(
      await receiveSigned(ctx, "basaltecho", { type: "transcript_ready", eventId: `a\u0000\u0000${suffix}` }),
    );

    expect(second.duplicate).toBe(false);
    expect(second.eventId).not.toBe(first.eventId);
  });

  test("huge webhook-id is stored and deduplicated", async () => {
    const messageId = `msg_${crypto.randomUUID()}`.repeat(2_500);
    const body = encoder.encode(JSON.stringify(responseCompleted()));

    const first = stored(await receiveBytes(ctx, "openai", body, { id: messageId }));
    const again = stored(await receiveBytes(ctx, "openai", body, { id: messageId }));
    const otherId = stored(await receiveBytes(ctx, "openai", body, { id: `${messageId}x` }));

    expect(first.status).toBe("pending");
    expect(again.duplicate).toBe(true);
    expect(again.eventId).toBe(first.eventId);
    expect(otherId.duplicate).toBe(false);
    const event = await readEvent(ctx.db, first.eventId);
    expect(event.idempotencyKey).toMatch(/^key-sha256:[0-9a-f]{64}$/);
    expect(event.headers["webhook-id"]).toBe(messageId);
  });

  test("long surge payment id is hashed", async () => {
    const paymentId = `pay_${crypto.randomUUID()}`.repeat(6);

    const outcome = stored(await receiveSigned(ctx, "surge", surgePayment(paymentId)));

    expect(outcome.status).toBe("pending");
    expect((await readEvent(ctx.db, outcome.eventId)).idempotencyKey).toMatch(/^key-sha256:[0-9a-f]{64}$/);
  });
});
