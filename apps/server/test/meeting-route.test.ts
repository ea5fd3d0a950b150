import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { accounts, leads, meetings } from "@basalt/db";
import { eq, sql } from "drizzle-orm";
import { createTestServer, type ErrorBody, internalApiKey, type TestServer } from "./support";

let server: TestServer;
const leadId = "lead_meeting_route";

beforeAll(async () => {
  server = await createTestServer();
  await server.database.db.insert(accounts).values({ id: "acct_meeting", name: "Acme" });
  await server.database.db
    .insert(leads)
    .values({ id: leadId, accountId: "acct_meeting", firstName: "Ada", pipelineStage: "Identify" });
});

afterAll(async () => {
  await server.database.destroy();
});

function book(
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${internalApiKey}` },
  lead = leadId,
) {
  return server.request(`/api/outreach/meeting/${lead}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

const validRequest = { datetime: "2026-03-01T15:00:00Z", timezone: "America/Denver" };

describe("POST /api/outreach/meeting/:leadId", () => {
  test("books a meeting and advances the lead", async () => {
    const response = await book(validRequest);

    expect(response.status).toBe(201);
    const answer = (await response.json()) as { meeting: { id: string; bookedBy: string }; created: boolean };
    expect(answer.created).toBe(true);
    expect(answer.meeting.bookedBy).toBe("api");
    const [meeting] = await server.database.db.select().from(meetings).where(eq(meetings.id, answer.meeting.id));
    expect(meeting?.startsAt.toISOString()).toBe("2026-03-01T15:00:00.000Z");
    expect(meeting?.timezone).toBe("America/Denver");
    const [lead] = await server.database.db.select().from(leads).where(eq(leads.id, leadId));
    expect(lead?.pipelineStage).toBe("Engage_Human");
  });

  test("repeated idempotency key returns the first meeting", async () => {
    const headers = { authorization: `Bearer ${internalApiKey}`, "idempotency-key": "booking-42" };
    const first = (await (await book(validRequest, headers)).json()) as { meeting: { id: string } };

    const response = await book(validRequest, headers);

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { meeting: { id: string }; created: boolean };
    expect(answer.created).toBe(false);
    expect(answer.meeting.id).toBe(first.meeting.id);
  });

  test("replay with same instant matches", async () => {
    const headers = { authorization: `Bearer ${internalApiKey}`, "idempotency-key": "booking-offset" };
    const first = (await (await book(validRequest, headers)).json()) as { meeting: { id: string } };

    const response = await book({ ...validRequest, datetime: "2026-03-01T08:00:00-07:00" }, headers);

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { meeting: { id: string }; created: boolean };
    expect(answer.meeting.id).toBe(first.meeting.id);
  });

  test.each([
    ["datetime", { datetime: "2026-03-02T15:00:00Z" }],
    ["timezone", { timezone: "Europe/Berlin" }],
    ["title", { title: "Another title" }],
    ["durationMinutes", { durationMinutes: 45 }],
  ])("key reused with other %s is 409", async (field, change) => {
    const key = `booking-changed-${field}`;
    const headers = { authorization: `Bearer ${internalApiKey}`, "idempotency-key": key };
    await book(validRequest, headers);

    const response = await book({ ...validRequest, ...change }, headers);

    expect(response.status).toBe(409);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("conflict");
    expect(body.error.message).toContain(key);
    expect(body.error.message).toContain("different request");
    expect(body.error.message).toContain(field);
    const booked = await server.database.db
      .select()
      .from(meetings)
      .where(eq(meetings.idempotencyKey, `api:${key}`));
    expect(booked).toHaveLength(1);
  });

  test("idempotency key of another lead is 409", async () => {
    await server.database.db.insert(leads).values({ id: "lead_meeting_other", accountId: "acct_meeting" });
    const headers = { authorization: `Bearer ${internalApiKey}`, "idempotency-key": "booking-shared" };
    await book(validRequest, headers);

    const response = await book(validRequest, headers, "lead_meeting_other");

    expect(response.status).toBe(409);
    expect(((await response.json()) as ErrorBody).error.code).toBe("conflict");
  });

  test("missing bearer key is 401", async () => {
    const response = await book(validRequest, {});

    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
  });

  test("wrong bearer key is 401", async () => {
    const response = await book(validRequest, { authorization: "Bearer not-the-key" });

    expect(response.status).toBe(401);
    expect(((await response.json()) as ErrorBody).error.code).toBe("unauthorized");
  });

  test("unknown lead is 404", async () => {
    const response = await book(validRequest, undefined, "lead_missing");

    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.message).toContain("lead_missing");
  });

  test.each([
    [{ datetime: "2026-03-01T15:00:00", timezone: "America/Denver" }, "datetime"],
    [{ datetime: "2026-03-01T15:00:00Z", timezone: "Mars/Base" }, "timezone"],
    [{ timezone: "America/Denver" }, "datetime"],
    [{ ...validRequest, durationMinutes: 2 }, "durationMinutes"],
  ])("invalid body %p names %s", async (body, field) => {
    const response = await book(body);

    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.message).toContain(field);
  });

  test.each([
    ["malformed percent-encoding", "%E0%A4%A"],
    ["lone percent sign", "%"],
    ["encoded lone surrogate", "%ED%A0%80"],
    ["NUL character", "lead%00x"],
    ["257 characters", "x".repeat(257)],
  ])("lead id with %s is 400", async (_case, lead) => {
    const response = await book(validRequest, undefined, lead);

    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toContain("leadId");
  });

  test("lead id at 256 characters is 404", async () => {
    const response = await book(validRequest, undefined, "x".repeat(256));

    expect(response.status).toBe(404);
  });

  test.each([
    ["NUL character", "Demo\u0000call", "NUL"],
    ["lone high surrogate", "Demo \ud800", "surrogate"],
    ["lone low surrogate", "\udc00 Demo", "surrogate"],
  ])("title with %s is 400", async (_case, title, problem) => {
    // JSON.stringify writes NUL and unpaired surrogates as \u escapes, so the body itself is valid JSON.
    const response = await book({ ...validRequest, title });

    expect(response.status).toBe(400);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.code).toBe("invalid_request");
    expect(error.message).toContain("title");
    expect(error.message).toContain(problem);
  });

  test.each([
    ["year 0 via offset", { datetime: "0001-01-01T00:00:00+01:00" }],
    ["year 0", { datetime: "0000-06-01T00:00:00Z" }],
    ["year 10000 via offset", { datetime: "9999-12-31T23:59:59-23:59" }],
    ["ending after 9999", { datetime: "9999-12-31T23:45:00Z", durationMinutes: 30 }],
  ])("datetime %s is 400", async (_case, change) => {
    const response = await book({ ...validRequest, ...change });

    expect(response.status).toBe(400);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.code).toBe("invalid_request");
    expect(error.message).toContain("datetime");
    expect(error.message).toContain("0001-01-01T00:00:00Z");
    expect(error.message).toContain("9999-12-31T23:59:59Z");
  });

  test("latest storable meeting is booked", async () => {
    const response = await book({ ...validRequest, datetime: "9999-12-31T23:29:59.999Z", durationMinutes: 30 });

    expect(response.status).toBe(201);
    const answer = (await response.json()) as { meeting: { startsAt: string } };
    expect(answer.meeting.startsAt).toBe("9999-12-31T23:29:59.999Z");
  });

  test("database data error is 400", async () => {
    // The trigger raises the error of a value that passes the route's checks but not Postgres's own.
    await server.database.db.execute(sql`
      create function reject_meeting() returns trigger language plpgsql as $$
      begin
        raise exception 'character with byte sequence 0xf0 has no equivalent' using errcode = '22P05';
      end $$`);
    await server.database.db.execute(
      sql`create trigger reject_meeting before insert on meetings for each row execute function reject_meeting()`,
    );
    try {
      const response = await book(validRequest);

      expect(response.status).toBe(400);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error.code).toBe("invalid_request");
      expect(error.message).toContain("no equivalent");
    } finally {
      await server.database.db.execute(sql`drop trigger reject_meeting on meetings`);
      await server.database.db.execute(sql`drop function reject_meeting()`);
    }
  });

  test("malformed JSON is 400", async () => {
    const response = await book("{");

    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_request");
  });

  test("without a configured key the route is 503", async () => {
    const keyless = await createTestServer({ apiKey: null });
    try {
      const response = await keyless.request(`/api/outreach/meeting/${leadId}`, {
        method: "POST",
        body: JSON.stringify(validRequest),
        headers: { authorization: "Bearer anything" },
      });

      expect(response.status).toBe(503);
      expect(((await response.json()) as ErrorBody).error.message).toContain("INTERNAL_API_KEY");
    } finally {
      await keyless.database.destroy();
    }
  });
});
