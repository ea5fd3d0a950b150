import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { leadActivities, leads, meetings } from "@basalt/db";
import { asc, eq } from "drizzle-orm";
import { type BookMeetingInput, bookMeeting, ConflictError, NotFoundError } from "../../src";
import { createCrmFixture, createTestContext, type TestContext } from "../support";

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

const meetingRequest = (leadId: string, overrides: Partial<BookMeetingInput> = {}): BookMeetingInput => ({
  leadId,
  startsAt: new Date("2026-03-05T15:00:00Z"),
  timezone: "America/Denver",
  ...overrides,
});

async function readLead(id: string) {
  const [lead] = await ctx.db.select().from(leads).where(eq(leads.id, id));
  return lead;
}

async function readMeetings(leadId: string) {
  return ctx.db.select().from(meetings).where(eq(meetings.leadId, leadId));
}

async function readActivityKinds(leadId: string) {
  const activities = await ctx.db
    .select()
    .from(leadActivities)
    .where(eq(leadActivities.leadId, leadId))
    .orderBy(asc(leadActivities.occurredAt), asc(leadActivities.id));
  return activities.map((activity) => activity.kind);
}

describe("bookMeeting", () => {
  test("creates the meeting", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const result = await bookMeeting(ctx, meetingRequest(fixture.leadId, { title: "Demo", durationMinutes: 45 }));

    expect(result.created).toBe(true);
    const [meeting, ...others] = await readMeetings(fixture.leadId);
    expect(others).toHaveLength(0);
    expect(meeting?.id).toBe(result.meeting.id);
    expect(meeting?.startsAt).toEqual(new Date("2026-03-05T15:00:00Z"));
    expect(meeting?.timezone).toBe("America/Denver");
    expect(meeting?.title).toBe("Demo");
    expect(meeting?.durationMinutes).toBe(45);
    expect(meeting?.bookedBy).toBe("api");
    expect(meeting?.idempotencyKey).toBeNull();
  });

  test("defaults title and duration", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const result = await bookMeeting(ctx, meetingRequest(fixture.leadId));

    expect(result.meeting.title).toBe("Meeting with John Doe");
    expect(result.meeting.durationMinutes).toBe(30);
  });

  test("advances the lead and logs activities", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await bookMeeting(ctx, meetingRequest(fixture.leadId));

    const lead = await readLead(fixture.leadId);
    expect(lead?.pipelineStage).toBe("Engage_Human");
    expect(lead?.meetingBookedAt).toEqual(ctx.clock.now());
    expect(await readActivityKinds(fixture.leadId)).toEqual(["meeting.scheduled", "lead.stage_changed"]);
  });

  test("lead in Offering stays there", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await ctx.db.update(leads).set({ pipelineStage: "Offering" }).where(eq(leads.id, fixture.leadId));

    const result = await bookMeeting(ctx, meetingRequest(fixture.leadId));

    expect(result.created).toBe(true);
    expect((await readLead(fixture.leadId))?.pipelineStage).toBe("Offering");
    expect(await readActivityKinds(fixture.leadId)).toEqual(["meeting.scheduled"]);
  });

  test("same idempotencyKey returns the first", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const key = `api:${crypto.randomUUID()}`;
    const first = await bookMeeting(ctx, meetingRequest(fixture.leadId, { idempotencyKey: key }));

    const second = await bookMeeting(ctx, meetingRequest(fixture.leadId, { idempotencyKey: key }));

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.meeting.id).toBe(first.meeting.id);
    expect(second.meeting.startsAt).toEqual(new Date("2026-03-05T15:00:00Z"));
    const stored = await readMeetings(fixture.leadId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.idempotencyKey).toBe(key);
    expect(await readActivityKinds(fixture.leadId)).toEqual(["meeting.scheduled", "lead.stage_changed"]);
  });

  test("concurrent requests with one key", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const request = meetingRequest(fixture.leadId, { idempotencyKey: `api:${crypto.randomUUID()}` });

    const results = await Promise.all([bookMeeting(ctx, request), bookMeeting(ctx, request)]);

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(results[0]?.meeting.id).toBe(results[1]?.meeting.id ?? "");
    expect(await readMeetings(fixture.leadId)).toHaveLength(1);
  });

  test("without a key books each request", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const first = await bookMeeting(ctx, meetingRequest(fixture.leadId));
    const second = await bookMeeting(ctx, meetingRequest(fixture.leadId));

    expect(first.created).toBe(true);
    expect(second.created).toBe(true);
    expect(second.meeting.id).not.toBe(first.meeting.id);
    expect(await readMeetings(fixture.leadId)).toHaveLength(2);
  });

  test("key of another lead raises ConflictError", async () => {
    const owner = await createCrmFixture(ctx.db);
    const other = await createCrmFixture(ctx.db);
    const key = `api:${crypto.randomUUID()}`;
    await bookMeeting(ctx, meetingRequest(owner.leadId, { idempotencyKey: key }));

    const booking = bookMeeting(ctx, meetingRequest(other.leadId, { idempotencyKey: key }));

    await expect(booking).rejects.toBeInstanceOf(ConflictError);
    await expect(booking).rejects.toThrow(`idempotency key ${key}`);
    expect(await readMeetings(other.leadId)).toHaveLength(0);
    expect((await readLead(other.leadId))?.pipelineStage).toBe("Engage_AI");
  });

  test("unknown lead raises NotFoundError", async () => {
    const booking = bookMeeting(ctx, meetingRequest("lead_missing"));

    await expect(booking).rejects.toBeInstanceOf(NotFoundError);
    await expect(booking).rejects.toThrow("lead lead_missing not found");
    const booked = await ctx.db.select().from(meetings).where(eq(meetings.leadId, "lead_missing"));
    expect(booked).toHaveLength(0);
  });
});
