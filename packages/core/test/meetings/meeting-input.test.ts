import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { meetings } from "@basalt/db";
import { eq } from "drizzle-orm";
import { type BookMeetingInput, bookMeeting, ConflictError, FieldValidationError } from "../../src";
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

async function readMeetings(leadId: string) {
  return ctx.db.select().from(meetings).where(eq(meetings.leadId, leadId));
}

describe("bookMeeting time range", () => {
  test.each([
    ["year 0", { startsAt: new Date("0000-12-31T23:00:00Z") }],
    ["year 10000", { startsAt: new Date("+010000-01-01T00:00:00Z") }],
    ["ending after 9999", { startsAt: new Date("9999-12-31T23:45:00Z"), durationMinutes: 30 }],
    ["default end after 9999", { startsAt: new Date("9999-12-31T23:30:00Z") }],
    ["invalid Date", { startsAt: new Date(Number.NaN) }],
  ])("start %s raises FieldValidationError", async (_case, change) => {
    const fixture = await createCrmFixture(ctx.db);

    const booking = bookMeeting(ctx, meetingRequest(fixture.leadId, change));

    await expect(booking).rejects.toBeInstanceOf(FieldValidationError);
    await expect(booking).rejects.toThrow("datetime: ");
    expect(await readMeetings(fixture.leadId)).toHaveLength(0);
  });

  test("range error names the bounds", async () => {
    const fixture = await createCrmFixture(ctx.db);

    const booking = bookMeeting(ctx, meetingRequest(fixture.leadId, { startsAt: new Date("0000-12-31T23:00:00Z") }));

    await expect(booking).rejects.toThrow("0000-12-31T23:00:00.000Z");
    await expect(booking).rejects.toThrow("0001-01-01T00:00:00Z");
    await expect(booking).rejects.toThrow("9999-12-31T23:59:59Z");
  });

  test.each([
    ["earliest start", new Date("0001-01-01T00:00:00Z"), 30],
    ["latest start", new Date("9999-12-31T23:29:59.999Z"), 30],
  ])("%s is stored", async (_case, startsAt, durationMinutes) => {
    const fixture = await createCrmFixture(ctx.db);

    const result = await bookMeeting(ctx, meetingRequest(fixture.leadId, { startsAt, durationMinutes }));

    expect(result.created).toBe(true);
    expect(await readMeetings(fixture.leadId)).toHaveLength(1);
  });
});

describe("bookMeeting idempotency key reuse", () => {
  test.each([
    ["datetime", { startsAt: new Date("2026-03-06T15:00:00Z") }],
    ["timezone", { timezone: "Europe/Berlin" }],
    ["title", { title: "Another title" }],
    ["durationMinutes", { durationMinutes: 45 }],
  ])("other %s raises ConflictError", async (field, change) => {
    const fixture = await createCrmFixture(ctx.db);
    const key = `api:${crypto.randomUUID()}`;
    const first = await bookMeeting(ctx, meetingRequest(fixture.leadId, { idempotencyKey: key }));

    const booking = bookMeeting(ctx, meetingRequest(fixture.leadId, { idempotencyKey: key, ...change }));

    await expect(booking).rejects.toBeInstanceOf(ConflictError);
    await expect(booking).rejects.toThrow(`idempotency key ${key} was already used with a different request`);
    await expect(booking).rejects.toThrow(field);
    const stored = await readMeetings(fixture.leadId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toEqual(first.meeting);
  });

  test("defaults match their explicit values", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const key = `api:${crypto.randomUUID()}`;
    const first = await bookMeeting(ctx, meetingRequest(fixture.leadId, { idempotencyKey: key }));

    const again = await bookMeeting(
      ctx,
      meetingRequest(fixture.leadId, { idempotencyKey: key, title: "Meeting with John Doe", durationMinutes: 30 }),
    );

    expect(again.created).toBe(false);
    expect(again.meeting.id).toBe(first.meeting.id);
  });
});
