import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestServer, internalApiKey, signFor, type TestServer } from "./support";

let server: TestServer;

beforeAll(async () => {
  server = await createTestServer();
});

afterAll(async () => {
  await server.database.destroy();
});

describe("health and metrics", () => {
  test("healthz answers ok", async () => {
    const response = await server.request("/healthz");

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  test("short host names still route", async () => {
    for (const host of ["a", "x.y", "ab.io:8080"]) {
      const response = await server.app.handle(new Request(`http://${host}/healthz`));

      expect(response.status).toBe(200);
    }
  });

  test("readyz answers ready when migrated", async () => {
    const response = await server.request("/readyz");

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready" });
  });

  test("readyz is 503 without a database", async () => {
    const broken = await createTestServer();
    await broken.database.destroy();

    const response = await broken.request("/readyz");

    expect(response.status).toBe(503);
    expect(((await response.json()) as { status: string }).status).toBe("not_ready");
  });

  test("metrics count requests and pending events", async () => {
    const body = JSON.stringify({
      type: "payment.confirmed",
      data: { id: "pay_metrics", external_id: "inv_1", amount: "1", currency: "USDC" },
    });
    await server.request("/api/webhooks/surge", { method: "POST", body, headers: signFor("surge", body) });
    await server.request("/api/webhooks/surge", { method: "POST", body, headers: { "x-surge-signature": "bad" } });

    const response = await server.request("/metrics");

    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('basalt_webhook_requests_total{source="surge",outcome="pending"} 1');
    expect(text).toContain('basalt_webhook_requests_total{source="surge",outcome="invalid_signature"} 1');
    expect(text).toContain("basalt_events_pending 1");
    expect(text).toContain("basalt_events_processing_lag_seconds");
  });
});

describe("demo seed route", () => {
  test("creates records for the internal key", async () => {
    const response = await server.request("/api/internal/seed", {
      method: "POST",
      headers: { authorization: `Bearer ${internalApiKey}` },
    });

    expect(response.status).toBe(201);
    const records = (await response.json()) as { invoiceId: string; leadId: string };
    expect(records.invoiceId).toStartWith("inv_");
    expect(records.leadId).toStartWith("lead_");
  });

  test("refuses callers without the key", async () => {
    const response = await server.request("/api/internal/seed", { method: "POST" });

    expect(response.status).toBe(401);
  });
});
