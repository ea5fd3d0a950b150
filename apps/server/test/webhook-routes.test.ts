import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { webhookEvents } from "@basalt/db";
import { eq } from "drizzle-orm";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { createTestServer, type ErrorBody, signFor, type TestServer, testSecrets } from "./support";

let server: TestServer;

beforeAll(async () => {
  server = await createTestServer({ maxBodyBytes: 4_096 });
});

afterAll(async () => {
  await server.database.destroy();
});

const paymentBody = (id = `pay_${crypto.randomUUID()}`) =>
  JSON.stringify({ type: "payment.confirmed", data: { id, external_id: "inv_1", amount: "499.00", currency: "USDC" } });

function postSurge(body: string, headers: Record<string, string> = signFor("surge", body)) {
  return server.request("/api/webhooks/surge", { method: "POST", body, headers });
}

async function storedRows(id: string) {
  return server.database.db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
}

describe("webhook answers", () => {
  test("valid event is stored pending", async () => {
    const body = paymentBody();

    const response = await postSurge(body);

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { received: boolean; id: string; duplicate: boolean; status: string };
    expect(answer.received).toBe(true);
    expect(answer.duplicate).toBe(false);
    expect(answer.status).toBe("pending");
    const [row] = await storedRows(answer.id);
    expect(row?.status).toBe("pending");
    expect(new TextDecoder().decode(row?.body)).toBe(body);
  });

  test("redelivery answers duplicate with same id", async () => {
    const body = paymentBody();
    const first = (await (await postSurge(body)).json()) as { id: string };

    const response = await postSurge(body);

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { id: string; duplicate: boolean };
    expect(answer.duplicate).toBe(true);
    expect(answer.id).toBe(first.id);
  });

  test("missing signature is 401 missing_signature", async () => {
    const response = await postSurge(paymentBody(), {});

    expect(response.status).toBe(401);
    const answer = (await response.json()) as ErrorBody;
    expect(answer.error.code).toBe("missing_signature");
    expect(answer.error.requestId).toBe(response.headers.get("x-request-id") ?? "");
  });

  test("wrong signature is 401 and stores nothing", async () => {
    const before = await server.database.db.$count(webhookEvents);

    const response = await postSurge(paymentBody(), { "x-surge-signature": "0".repeat(64) });

    expect(response.status).toBe(401);
    expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_signature");
    expect(await server.database.db.$count(webhookEvents)).toBe(before);
  });

  test("verified non-JSON is 400 and stored rejected", async () => {
    const body = "not json at all";

    const response = await postSurge(body);

    expect(response.status).toBe(400);
    const answer = (await response.json()) as ErrorBody;
    expect(answer.error.code).toBe("invalid_payload");
    expect(answer.error.message).toContain("not valid JSON");
    const rows = await server.database.db.select().from(webhookEvents).where(eq(webhookEvents.status, "rejected"));
    expect(rows.some((row) => new TextDecoder().decode(row.body) === body)).toBe(true);
  });

  test("schema failure is 400 naming the field", async () => {
    const body = JSON.stringify({
      type: "payment.confirmed",
      data: { id: "pay_1", amount: "499.00", currency: "USDC" },
    });

    const response = await postSurge(body);

    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.message).toContain("data.external_id");
  });

  test("unhandled type is 200 and stored ignored", async () => {
    const body = JSON.stringify({ type: "payment.failed", data: { id: `pay_${crypto.randomUUID()}` } });

    const response = await postSurge(body);

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { id: string; status: string };
    expect(answer.status).toBe("ignored");
    expect((await storedRows(answer.id))[0]?.status).toBe("ignored");
  });

  test("body over the limit is 413", async () => {
    const body = JSON.stringify({ type: "payment.confirmed", padding: "x".repeat(5_000) });

    const response = await postSurge(body);

    expect(response.status).toBe(413);
    expect(((await response.json()) as ErrorBody).error.code).toBe("payload_too_large");
  });

  test("streamed body over the limit is 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1_024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 8; index++) {
          controller.enqueue(chunk);
        }
        controller.close();
      },
    });

    const response = await server.request("/api/webhooks/surge", { method: "POST", body: stream });

    expect(response.status).toBe(413);
  });

  test.each([["text/plain"], ["application/x-www-form-urlencoded"], [""]])(
    "content type %p is accepted",
    async (type) => {
      const body = paymentBody();
      const headers: Record<string, string> = { ...signFor("surge", body) };
      if (type !== "") {
        headers["content-type"] = type;
      }

      const response = await postSurge(body, headers);

      expect(response.status).toBe(200);
    },
  );

  test("unknown route is a JSON 404", async () => {
    const response = await server.request("/api/webhooks/unknown", { method: "POST", body: "{}" });

    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.code).toBe("not_found");
  });
});

describe("provider libraries as peers", () => {
  test("standardwebhooks-signed OpenAI event is accepted", async () => {
    const body = JSON.stringify({
      id: "evt_1",
      type: "response.completed",
      created_at: 1,
      data: { session_id: "sess_1" },
    });
    const id = `msg_${crypto.randomUUID()}`;
    const now = new Date();
    const signature = new StandardWebhook(testSecrets.openai).sign(id, now, body);

    const response = await server.request("/api/azure/webhook", {
      method: "POST",
      body,
      headers: {
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      },
    });

    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("pending");
  });

  test("svix-signed Resend event is accepted", async () => {
    const body = JSON.stringify({
      type: "email.delivered",
      created_at: "2026-02-27T20:00:00Z",
      data: { email_id: "msg_abc" },
    });
    const id = `msg_${crypto.randomUUID()}`;
    const now = new Date();
    const signature = new SvixWebhook(testSecrets.resend).sign(id, now, body);

    const response = await server.request("/api/resend/webhook", {
      method: "POST",
      body,
      headers: {
        "svix-id": id,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": signature,
      },
    });

    expect(response.status).toBe(200);
  });

  test("stale svix timestamp is 401", async () => {
    const body = JSON.stringify({ type: "email.delivered", data: { email_id: "msg_abc" } });
    const id = `msg_${crypto.randomUUID()}`;
    const stale = new Date(Date.now() - 10 * 60_000);
    const signature = new SvixWebhook(testSecrets.resend).sign(id, stale, body);

    const response = await server.request("/api/resend/webhook", {
      method: "POST",
      body,
      headers: {
        "svix-id": id,
        "svix-timestamp": String(Math.floor(stale.getTime() / 1000)),
        "svix-signature": signature,
      },
    });

    expect(response.status).toBe(401);
    expect(((await response.json()) as ErrorBody).error.code).toBe("timestamp_out_of_tolerance");
  });
});

describe("configuration and availability", () => {
  test("source without a secret is 503", async () => {
    const unconfigured = await createTestServer({ environmentSecrets: {} });
    try {
      const body = JSON.stringify({ type: "email.delivered", data: { email_id: "msg_abc" } });

      const response = await unconfigured.request("/api/resend/webhook", {
        method: "POST",
        body,
        headers: signFor("resend", body),
      });

      expect(response.status).toBe(503);
      const answer = (await response.json()) as ErrorBody;
      expect(answer.error.code).toBe("source_not_configured");
      expect(answer.error.message).toContain("RESEND_WEBHOOK_SECRET");
    } finally {
      await unconfigured.database.destroy();
    }
  });

  test("basaltecho without a secret accepts unsigned events", async () => {
    const unsigned = await createTestServer({ environmentSecrets: {} });
    try {
      const body = JSON.stringify({ type: "call_connected", leadId: "lead_1", eventId: "evt_unsigned" });

      const response = await unsigned.request("/api/voice/engage/webhook", { method: "POST", body });

      expect(response.status).toBe(200);
      const [row] = await unsigned.database.db.select().from(webhookEvents);
      expect(row?.verifiedBy).toBe("unsigned");
    } finally {
      await unsigned.database.destroy();
    }
  });

  test("unreachable database is 503", async () => {
    const broken = await createTestServer();
    await broken.database.destroy();
    const body = paymentBody();

    const response = await broken.request("/api/webhooks/surge", {
      method: "POST",
      body,
      headers: signFor("surge", body),
    });

    expect(response.status).toBe(503);
    expect(((await response.json()) as ErrorBody).error.code).toBe("database_unavailable");
    expect(response.headers.get("retry-after")).not.toBeNull();
  });
});

describe("real HTTP on loopback", () => {
  test("signed event over a socket is stored", async () => {
    const listener = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: server.app.fetch });
    try {
      const body = paymentBody();

      const response = await fetch(`http://127.0.0.1:${listener.port}/api/webhooks/surge`, {
        method: "POST",
        body,
        headers: signFor("surge", body),
      });

      expect(response.status).toBe(200);
      const answer = (await response.json()) as { id: string };
      expect((await storedRows(answer.id))[0]?.status).toBe("pending");
    } finally {
      await listener.stop(true);
    }
  });

  test("client that leaves mid-body is counted, not an error", async () => {
    const listener = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: server.app.fetch });
    try {
      // A raw socket, because fetch cannot stop in the middle of a body it declared.
      const socket = await Bun.connect({ hostname: "127.0.0.1", port: Number(listener.port), socket: { data() {} } });
      socket.write(
        'POST /api/webhooks/surge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":',
      );
      await Bun.sleep(100);
      socket.end();

      const deadline = Date.now() + 5_000;
      let metrics = "";
      while (!metrics.includes('outcome="client_aborted"') && Date.now() < deadline) {
        await Bun.sleep(25);
        metrics = await (await server.request("/metrics")).text();
      }

      expect(metrics).toContain('basalt_webhook_requests_total{source="surge",outcome="client_aborted"} 1');
    } finally {
      await listener.stop(true);
    }
  });
});
