import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { calls, type EventSource, eventSources, followUpIntents, meetings } from "@basalt/db";
import { eq } from "drizzle-orm";
import type { ReceiveOutcome } from "../../src";
import { createCrmFixture, createTestContext, deliver, receiveSigned, type TestContext } from "../support";

type StoredOutcome = Extract<ReceiveOutcome, { kind: "stored" }>;

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

function stored(outcome: ReceiveOutcome): StoredOutcome {
  if (outcome.kind !== "stored") {
    throw new Error(`expected a stored event, got ${JSON.stringify(outcome)}`);
  }
  return outcome;
}

const scheduleMeetingCall = (leadId: string, args: Record<string, unknown>) => ({
  type: "tool_call",
  name: "schedule_meeting",
  leadId,
  eventId: `evt_${crypto.randomUUID()}`,
  args: { timezone: "America/Denver", ...args },
});

const callEnded = (leadId: string, overrides: Record<string, unknown> = {}) => ({
  type: "call_ended",
  leadId,
  eventId: `evt_${crypto.randomUUID()}`,
  ...overrides,
});

describe("schedule_meeting args.datetime range", () => {
  test.each([
    ["year 0 via offset", { datetime: "0001-01-01T00:00:00+01:00" }],
    ["year 0", { datetime: "0000-06-01T00:00:00Z" }],
    ["year 10000 via offset", { datetime: "9999-12-31T23:59:59-23:59" }],
    ["ending after 9999", { datetime: "9999-12-31T23:45:00Z", durationMinutes: 30 }],
    ["ending after 9999 by default", { datetime: "9999-12-31T23:30:00Z" }],
  ])("%s is rejected", async (_case, args) => {
    const fixture = await createCrmFixture(ctx.db);

    const outcome = stored(await receiveSigned(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, args)));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toStartWith("args.datetime: ");
    expect(outcome.reason).toContain("0001-01-01T00:00:00Z");
    expect(outcome.reason).toContain("9999-12-31T23:59:59Z");
  });

  test("JSON string args are checked", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const event = {
      ...scheduleMeetingCall(fixture.leadId, {}),
      args: JSON.stringify({ datetime: "9999-12-31T23:59:59-23:59", timezone: "UTC" }),
    };

    const outcome = stored(await receiveSigned(ctx, "basaltecho", event));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toStartWith("args.datetime: ");
  });

  test("latest meeting start is processed", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const args = { datetime: "9999-12-31T23:29:59.999Z", durationMinutes: 30 };

    const event = await deliver(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, args));

    expect(event.status).toBe("processed");
    const [meeting] = await ctx.db.select().from(meetings).where(eq(meetings.leadId, fixture.leadId));
    expect(meeting?.startsAt.toISOString()).toBe("9999-12-31T23:29:59.999Z");
  });
});

describe("provider time range", () => {
  const tooLate = "9999-12-30T00:00:00Z";

  const cases: { field: string; source: EventSource; payload: () => unknown }[] = [
    {
      field: "ts",
      source: "basaltecho",
      payload: () => callEnded("lead_1", { ts: tooLate }),
    },
    {
      field: "created_at",
      source: "surge",
      payload: () => ({
        type: "payment.confirmed",
        created_at: tooLate,
        data: { id: `pay_${crypto.randomUUID()}`, external_id: "inv_1", amount: "1.00", currency: "USDC" },
      }),
    },
    {
      field: "updatedAt",
      source: "surge",
      payload: () => ({
        event: "receipt.status_updated",
        receiptId: `rcpt_${crypto.randomUUID()}`,
        status: "paid",
        updatedAt: tooLate,
      }),
    },
    {
      field: "timestamp",
      source: "surge",
      payload: () => ({
        event: "receipt.status_updated",
        receiptId: `rcpt_${crypto.randomUUID()}`,
        status: "paid",
        timestamp: tooLate,
      }),
    },
    {
      field: "created_at",
      source: "resend",
      payload: () => ({ type: "email.delivered", created_at: tooLate, data: { email_id: crypto.randomUUID() } }),
    },
    {
      field: "data.created_at",
      source: "resend",
      payload: () => ({ type: "email.delivered", data: { email_id: crypto.randomUUID(), created_at: tooLate } }),
    },
    {
      field: "created_at",
      source: "openai",
      payload: () => ({ type: "response.completed", created_at: tooLate, data: { id: crypto.randomUUID() } }),
    },
    {
      field: "created_at",
      source: "openai",
      payload: () => ({
        type: "realtime.call.incoming",
        created_at: Date.parse(tooLate),
        data: { call_id: `call_${crypto.randomUUID()}` },
      }),
    },
  ];

  test.each(cases)("$source $field too late is rejected", async ({ field, source, payload }) => {
    const outcome = stored(await receiveSigned(ctx, source, payload()));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toStartWith(`${field}: `);
    expect(outcome.reason).toContain("9999-12-29T23:59:59Z");
  });

  test("every source is covered", () => {
    expect(new Set(cases.map((item) => item.source))).toEqual(new Set(eventSources));
  });

  test("latest call end gets its follow-up", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const event = await deliver(ctx, "basaltecho", callEnded(fixture.leadId, { ts: "9999-12-29T23:59:59.999Z" }));

    expect(event.status).toBe("processed");
    const [followUp] = await ctx.db.select().from(followUpIntents).where(eq(followUpIntents.leadId, fixture.leadId));
    expect(followUp?.dueAt.toISOString()).toBe("9999-12-31T23:59:59.999Z");
  });
});

describe("integer fields", () => {
  test("durationSec past int4 is rejected", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const outcome = stored(
      await receiveSigned(ctx, "basaltecho", callEnded(fixture.leadId, { durationSec: 2_147_483_648 })),
    );

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toStartWith("durationSec: ");
    expect(await ctx.db.select().from(calls).where(eq(calls.leadId, fixture.leadId))).toHaveLength(0);
  });

  test("duration_ms past int4 is rejected", async () => {
    const payload = { type: "response.completed", data: { id: crypto.randomUUID(), duration_ms: 2_147_483_648 } };

    const outcome = stored(await receiveSigned(ctx, "openai", payload));

    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toStartWith("data.duration_ms: ");
  });

  test("duration_ms at int4 max is processed", async () => {
    const payload = { type: "response.completed", data: { id: crypto.randomUUID(), duration_ms: 2_147_483_647 } };

    const event = await deliver(ctx, "openai", payload);

    expect(event.status).toBe("processed");
  });
});
