import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { accounts, leads, meetings } from "@basalt/db";
import { eq } from "drizzle-orm";
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

    const response = await book({ ...validRequest, datetime: "2026-03-02T15:00:00Z" }, headers);

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { meeting: { id: string }; created: boolean };
    expect(answer.created).toBe(false);
    expect(answer.meeting.id).toBe(first.meeting.id);
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
