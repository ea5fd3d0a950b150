import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { calls, followUpIntents, leadActivities, leads, meetings, type PipelineStage } from "@basalt/db";
import { asc, eq } from "drizzle-orm";
import { createCrmFixture, createTestContext, deliver, readEvent, receiveSigned, type TestContext } from "../support";

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

/** Provider times in milliseconds, shortly before the test clock's 2026-03-01T12:00:00Z. */
const callStartedTs = Date.parse("2026-03-01T11:40:00Z");
const callEndedTs = Date.parse("2026-03-01T11:52:00Z");
const twoDaysMs = 2 * 24 * 3_600_000;

const scheduleMeetingCall = (leadId: string, args: unknown, overrides: Record<string, unknown> = {}) => ({
  type: "tool_call",
  name: "schedule_meeting",
  leadId,
  args,
  eventId: `evt_${crypto.randomUUID()}`,
  ts: callEndedTs,
  ...overrides,
});

const callEvent = (type: "call_connected" | "call_ended", leadId: string, overrides: Record<string, unknown> = {}) => ({
  type,
  leadId,
  eventId: `evt_${crypto.randomUUID()}`,
  ts: type === "call_connected" ? callStartedTs : callEndedTs,
  ...overrides,
});

const denverMeeting = { datetime: "2026-03-05T15:00:00Z", timezone: "America/Denver" };

async function readLead(id: string) {
  const [lead] = await ctx.db.select().from(leads).where(eq(leads.id, id));
  return lead;
}

async function readMeetings(leadId: string) {
  return ctx.db.select().from(meetings).where(eq(meetings.leadId, leadId));
}

async function readCalls(leadId: string) {
  return ctx.db.select().from(calls).where(eq(calls.leadId, leadId)).orderBy(asc(calls.createdAt), asc(calls.id));
}

async function readFollowUps(leadId: string) {
  return ctx.db.select().from(followUpIntents).where(eq(followUpIntents.leadId, leadId));
}

async function readActivities(leadId: string) {
  return ctx.db
    .select()
    .from(leadActivities)
    .where(eq(leadActivities.leadId, leadId))
    .orderBy(asc(leadActivities.occurredAt), asc(leadActivities.id));
}

async function setLead(id: string, values: Partial<typeof leads.$inferInsert>) {
  await ctx.db.update(leads).set(values).where(eq(leads.id, id));
}

describe("basaltecho tool_call schedule_meeting", () => {
  test("books the meeting for the lead", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const event = scheduleMeetingCall(fixture.leadId, denverMeeting);

    const stored = await deliver(ctx, "basaltecho", event);

    expect(stored.status).toBe("processed");
    expect(stored.eventType).toBe("tool_call.schedule_meeting");
    const [meeting, ...others] = await readMeetings(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(meeting?.startsAt).toEqual(new Date("2026-03-05T15:00:00Z"));
    expect(meeting?.timezone).toBe("America/Denver");
    expect(meeting?.bookedBy).toBe("basaltecho");
    expect(meeting?.durationMinutes).toBe(30);
    expect(meeting?.title).toBe("Meeting with John Doe");
  });

  test("time zone stored in canonical spelling", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(
      ctx,
      "basaltecho",
      scheduleMeetingCall(fixture.leadId, { ...denverMeeting, timezone: "america/denver" }),
    );

    const [meeting] = await readMeetings(fixture.leadId);
    expect(meeting?.timezone).toBe("America/Denver");
  });

  test("moves the lead to Engage_Human", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, denverMeeting));

    const lead = await readLead(fixture.leadId);
    expect(lead?.pipelineStage).toBe("Engage_Human");
    expect(lead?.meetingBookedAt).toEqual(new Date(callEndedTs));
  });

  const stages: { from: PipelineStage; to: PipelineStage }[] = [
    { from: "Identify", to: "Engage_Human" },
    { from: "Engage_AI", to: "Engage_Human" },
    { from: "Engage_Human", to: "Engage_Human" },
    { from: "Offering", to: "Offering" },
    { from: "Converted", to: "Converted" },
  ];
  test.each(stages)("stage $from becomes $to", async ({ from, to }) => {
    const fixture = await createCrmFixture(ctx.db);
    await setLead(fixture.leadId, { pipelineStage: from });

    const stored = await deliver(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, denverMeeting));

    expect(stored.status).toBe("processed");
    const lead = await readLead(fixture.leadId);
    expect(lead?.pipelineStage).toBe(to);
    expect(lead?.meetingBookedAt).not.toBeNull();
    expect(await readMeetings(fixture.leadId)).toHaveLength(1);
    const kinds = (await readActivities(fixture.leadId)).map((activity) => activity.kind);
    expect(kinds).toEqual(from === to ? ["meeting.scheduled"] : ["meeting.scheduled", "lead.stage_changed"]);
  });

  test("timeline activities at provider time", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, denverMeeting));

    const [scheduled, stageChanged, ...others] = await readActivities(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(scheduled?.kind).toBe("meeting.scheduled");
    expect(scheduled?.occurredAt).toEqual(new Date(callEndedTs));
    expect(scheduled?.eventId).toBe(stored.id);
    expect(scheduled?.summary).toContain("2026-03-05T15:00:00.000Z (America/Denver)");
    expect(stageChanged?.kind).toBe("lead.stage_changed");
    expect(stageChanged?.data).toEqual({ from: "Engage_AI", to: "Engage_Human" });
  });

  test("args as a JSON string", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const args = JSON.stringify({ ...denverMeeting, title: "Intro call", durationMinutes: 45 });

    const stored = await deliver(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, args));

    expect(stored.status).toBe("processed");
    const [meeting] = await readMeetings(fixture.leadId);
    expect(meeting?.startsAt).toEqual(new Date("2026-03-05T15:00:00Z"));
    expect(meeting?.timezone).toBe("America/Denver");
    expect(meeting?.title).toBe("Intro call");
    expect(meeting?.durationMinutes).toBe(45);
  });

  test("datetime with a UTC offset", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const args = { datetime: "2026-03-05T08:00:00-07:00", timezone: "America/Denver" };

    await deliver(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, args));

    const [meeting] = await readMeetings(fixture.leadId);
    expect(meeting?.startsAt).toEqual(new Date("2026-03-05T15:00:00Z"));
  });

  test("duplicate eventId books one meeting", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const event = scheduleMeetingCall(fixture.leadId, denverMeeting);
    const first = await deliver(ctx, "basaltecho", event);

    const again = await deliver(ctx, "basaltecho", event);
    const changedBody = await deliver(ctx, "basaltecho", { ...event, ts: callEndedTs + 1_000 });

    expect(again.id).toBe(first.id);
    expect(changedBody.id).toBe(first.id);
    expect(await readMeetings(fixture.leadId)).toHaveLength(1);
    const kinds = (await readActivities(fixture.leadId)).map((activity) => activity.kind);
    expect(kinds.filter((kind) => kind === "meeting.scheduled")).toHaveLength(1);
  });

  const invalidArgs = [
    {
      name: "unknown timezone",
      field: "args.timezone",
      args: { datetime: "2026-03-05T15:00:00Z", timezone: "Mars/Base" },
      message: '"Mars/Base" is not an IANA time zone',
    },
    {
      name: "missing timezone",
      field: "args.timezone",
      args: { datetime: "2026-03-05T15:00:00Z" },
      message: "expected string",
    },
    {
      name: "datetime without offset",
      field: "args.datetime",
      args: { datetime: "2026-03-05T15:00:00", timezone: "America/Denver" },
      message: "with Z or a UTC offset",
    },
    {
      name: "datetime in words",
      field: "args.datetime",
      args: { datetime: "next Tuesday", timezone: "America/Denver" },
      message: "ISO 8601",
    },
    {
      name: "unknown timezone in string args",
      field: "args.timezone",
      args: JSON.stringify({ datetime: "2026-03-05T15:00:00Z", timezone: "Mars/Base" }),
      message: '"Mars/Base" is not an IANA time zone',
    },
  ];
  test.each(invalidArgs)("$name is rejected", async ({ field, args, message }) => {
    const fixture = await createCrmFixture(ctx.db);

    const outcome = await receiveSigned(ctx, "basaltecho", scheduleMeetingCall(fixture.leadId, args));
    await ctx.worker.drain();

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("rejected");
    expect(outcome.reason).toContain(`${field}:`);
    expect(outcome.reason).toContain(message);
    const stored = await readEvent(ctx.db, outcome.eventId);
    expect(stored.status).toBe("rejected");
    expect(stored.statusReason).toBe(outcome.reason);
    expect(await readMeetings(fixture.leadId)).toHaveLength(0);
    expect((await readLead(fixture.leadId))?.pipelineStage).toBe("Engage_AI");
  });

  test("other tool name is ignored", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const event = { ...scheduleMeetingCall(fixture.leadId, denverMeeting), name: "send_brochure" };

    const outcome = await receiveSigned(ctx, "basaltecho", event);
    await ctx.worker.drain();

    expect(outcome.kind).toBe("stored");
    if (outcome.kind !== "stored") {
      return;
    }
    expect(outcome.status).toBe("ignored");
    expect(outcome.eventType).toBe("tool_call.send_brochure");
    expect(outcome.reason).toContain("send_brochure");
    expect((await readEvent(ctx.db, outcome.eventId)).status).toBe("ignored");
    expect(await readMeetings(fixture.leadId)).toHaveLength(0);
    expect((await readLead(fixture.leadId))?.pipelineStage).toBe("Engage_AI");
  });

  test("unknown lead fails naming it", async () => {
    const stored = await deliver(ctx, "basaltecho", scheduleMeetingCall("lead_missing_meeting", denverMeeting));

    expect(stored.status).toBe("pending");
    expect(stored.attempts).toBe(1);
    expect(stored.lastError).toBe("lead lead_missing_meeting not found");
    const booked = await ctx.db.select().from(meetings).where(eq(meetings.leadId, "lead_missing_meeting"));
    expect(booked).toHaveLength(0);
  });

  test("lead created before the retry", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const leadId = `lead_${crypto.randomUUID()}`;
    const first = await deliver(ctx, "basaltecho", scheduleMeetingCall(leadId, denverMeeting));
    await ctx.db.insert(leads).values({ id: leadId, accountId: fixture.accountId, pipelineStage: "Identify" });

    // The test worker retries after 10 s ±10 %.
    ctx.clock.advance(12_000);
    await ctx.worker.drain();

    const retried = await readEvent(ctx.db, first.id);
    expect(retried.status).toBe("processed");
    expect(retried.attempts).toBe(2);
    expect(retried.lastError).toBeNull();
    expect(await readMeetings(leadId)).toHaveLength(1);
    const lead = await readLead(leadId);
    expect(lead?.pipelineStage).toBe("Engage_Human");
    expect(lead?.meetingBookedAt).toEqual(new Date(callEndedTs));
  });
});

describe("basaltecho call_connected", () => {
  test("sets CONNECTED and records the call", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId, { callId: "c-1" }));

    expect(stored.status).toBe("processed");
    const lead = await readLead(fixture.leadId);
    expect(lead?.callStatus).toBe("CONNECTED");
    expect(lead?.callStatusAt).toEqual(new Date(callStartedTs));
    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.providerCallId).toBe("c-1");
    expect(call?.status).toBe("CONNECTED");
    expect(call?.connectedAt).toEqual(new Date(callStartedTs));
    expect(call?.endedAt).toBeNull();
    const [activity] = await readActivities(fixture.leadId);
    expect(activity?.kind).toBe("call.connected");
    expect(activity?.occurredAt).toEqual(new Date(callStartedTs));
    expect(activity?.data).toEqual({ callId: call?.id });
  });

  test("call id of another lead fails", async () => {
    const owner = await createCrmFixture(ctx.db);
    const other = await createCrmFixture(ctx.db);
    const callId = `call_${crypto.randomUUID()}`;
    await deliver(ctx, "basaltecho", callEvent("call_connected", owner.leadId, { callId }));

    const stored = await deliver(ctx, "basaltecho", callEvent("call_ended", other.leadId, { callId }));

    expect(stored.status).toBe("pending");
    expect(stored.lastError).toBe(`call ${callId} belongs to lead ${owner.leadId}, not to lead ${other.leadId}`);
    expect(await readCalls(other.leadId)).toHaveLength(0);
    expect((await readLead(other.leadId))?.callStatus).toBeNull();
  });

  test("without callId records a call", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId));

    expect((await readLead(fixture.leadId))?.callStatus).toBe("CONNECTED");
    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.providerCallId).toBeNull();
    expect(call?.status).toBe("CONNECTED");
  });

  test("unknown lead fails naming it", async () => {
    const stored = await deliver(ctx, "basaltecho", callEvent("call_connected", "lead_missing_connected"));

    expect(stored.status).toBe("pending");
    expect(stored.lastError).toBe("lead lead_missing_connected not found");
  });
});

describe("basaltecho call_ended", () => {
  test("records duration and ends the call", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId, { callId: "c-2" }));

    const stored = await deliver(
      ctx,
      "basaltecho",
      callEvent("call_ended", fixture.leadId, { callId: "c-2", durationSec: 720 }),
    );

    expect(stored.status).toBe("processed");
    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.status).toBe("ENDED");
    expect(call?.durationSec).toBe(720);
    expect(call?.connectedAt).toEqual(new Date(callStartedTs));
    expect(call?.endedAt).toEqual(new Date(callEndedTs));
    const lead = await readLead(fixture.leadId);
    expect(lead?.callStatus).toBe("ENDED");
    expect(lead?.callStatusAt).toEqual(new Date(callEndedTs));
  });

  const statuses = [
    { from: "NEW", to: "CONTACTED" },
    { from: "CONTACTED", to: "CONTACTED" },
    { from: "QUALIFIED", to: "QUALIFIED" },
    { from: "LOST", to: "LOST" },
  ] as const;
  test.each(statuses)("lead status $from becomes $to", async ({ from, to }) => {
    const fixture = await createCrmFixture(ctx.db);
    await setLead(fixture.leadId, { status: from });

    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: crypto.randomUUID() }));

    expect((await readLead(fixture.leadId))?.status).toBe(to);
  });

  test("queues a post-call follow-up", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: "c-3", durationSec: 95 }));

    const [call] = await readCalls(fixture.leadId);
    const [followUp, ...others] = await readFollowUps(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(followUp?.kind).toBe("post_call");
    expect(followUp?.status).toBe("OPEN");
    expect(followUp?.dueAt).toEqual(new Date(callEndedTs + twoDaysMs));
    expect(followUp?.callId).toBe(call?.id ?? "");
  });

  test("adds a timeline activity", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const stored = await deliver(
      ctx,
      "basaltecho",
      callEvent("call_ended", fixture.leadId, { callId: "c-4", durationSec: 61.4 }),
    );

    const [call] = await readCalls(fixture.leadId);
    const [activity, ...others] = await readActivities(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(activity?.kind).toBe("call.ended");
    expect(activity?.summary).toBe("Call ended after 61 s");
    expect(activity?.occurredAt).toEqual(new Date(callEndedTs));
    expect(activity?.eventId).toBe(stored.id);
    expect(activity?.data).toEqual({ callId: call?.id, durationSec: 61 });
  });

  test("without durationSec keeps it empty", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: "c-5" }));

    const [call] = await readCalls(fixture.leadId);
    expect(call?.status).toBe("ENDED");
    expect(call?.durationSec).toBeNull();
    const [activity] = await readActivities(fixture.leadId);
    expect(activity?.summary).toBe("Call ended");
  });

  test("before call_connected stays ENDED", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: "c-6", durationSec: 30 }));

    const late = await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId, { callId: "c-6" }));

    expect(late.status).toBe("processed");
    const lead = await readLead(fixture.leadId);
    expect(lead?.callStatus).toBe("ENDED");
    expect(lead?.callStatusAt).toEqual(new Date(callEndedTs));
    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.status).toBe("ENDED");
    expect(call?.durationSec).toBe(30);
    expect(call?.connectedAt).toEqual(new Date(callStartedTs));
    expect(call?.endedAt).toEqual(new Date(callEndedTs));
    const kinds = (await readActivities(fixture.leadId)).map((activity) => activity.kind);
    expect(kinds).toEqual(["call.connected", "call.ended"]);
  });

  test("later call connects again", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId, { callId: "c-7" }));
    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: "c-7" }));
    const nextTs = callEndedTs + 60_000;

    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId, { callId: "c-8", ts: nextTs }));

    const lead = await readLead(fixture.leadId);
    expect(lead?.callStatus).toBe("CONNECTED");
    expect(lead?.callStatusAt).toEqual(new Date(nextTs));
    const [first, second, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(first?.providerCallId).toBe("c-7");
    expect(first?.status).toBe("ENDED");
    expect(second?.providerCallId).toBe("c-8");
    expect(second?.status).toBe("CONNECTED");
  });

  test("without callId ends the open call", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId));

    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { durationSec: 720 }));

    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.status).toBe("ENDED");
    expect(call?.connectedAt).toEqual(new Date(callStartedTs));
    expect(call?.endedAt).toEqual(new Date(callEndedTs));
    expect(call?.durationSec).toBe(720);
    expect((await readLead(fixture.leadId))?.callStatus).toBe("ENDED");
    expect(await readFollowUps(fixture.leadId)).toHaveLength(1);
  });

  test("without callId before call_connected", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { durationSec: 720 }));

    const late = await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId));

    expect(late.status).toBe("processed");
    expect((await readLead(fixture.leadId))?.callStatus).toBe("ENDED");
    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.status).toBe("ENDED");
    expect(call?.connectedAt).toEqual(new Date(callStartedTs));
    expect(call?.durationSec).toBe(720);
    const [activity] = await readActivities(fixture.leadId);
    expect(activity?.summary).toBe("Call connected (reported after the call ended)");
  });

  test("late connect keeps the newer call", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const nextTs = callEndedTs + 60_000;
    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { durationSec: 720 }));
    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId, { ts: nextTs }));

    await deliver(ctx, "basaltecho", callEvent("call_connected", fixture.leadId));

    const lead = await readLead(fixture.leadId);
    expect(lead?.callStatus).toBe("CONNECTED");
    expect(lead?.callStatusAt).toEqual(new Date(nextTs));
    const [ended, open, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(ended?.status).toBe("ENDED");
    expect(ended?.connectedAt).toEqual(new Date(callStartedTs));
    expect(open?.status).toBe("CONNECTED");
    expect(open?.connectedAt).toEqual(new Date(nextTs));
  });

  test("without callId and no call yet", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { durationSec: 12 }));

    const [call, ...others] = await readCalls(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(call?.providerCallId).toBeNull();
    expect(call?.status).toBe("ENDED");
    expect(call?.durationSec).toBe(12);
    expect((await readLead(fixture.leadId))?.callStatus).toBe("ENDED");
    expect(await readFollowUps(fixture.leadId)).toHaveLength(1);
  });

  test("repeated call_ended queues one follow-up", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: "c-9" }));

    await deliver(ctx, "basaltecho", callEvent("call_ended", fixture.leadId, { callId: "c-9", durationSec: 40 }));

    expect(await readCalls(fixture.leadId)).toHaveLength(1);
    expect(await readFollowUps(fixture.leadId)).toHaveLength(1);
  });

  test("unknown lead fails naming it", async () => {
    const stored = await deliver(ctx, "basaltecho", callEvent("call_ended", "lead_missing_ended", { callId: "c-10" }));

    expect(stored.status).toBe("pending");
    expect(stored.lastError).toBe("lead lead_missing_ended not found");
    const orphan = await ctx.db.select().from(calls).where(eq(calls.providerCallId, "c-10"));
    expect(orphan).toHaveLength(0);
  });
});
