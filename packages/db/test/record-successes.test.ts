import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { asc, eq, inArray } from "drizzle-orm";
import {
  createSuccessWriter,
  type DeliverySuccess,
  deliveries,
  deliveryAttempts,
  outboundMessages,
  type SuccessWriter,
  webhookEndpoints,
} from "../src";
import { createTestDatabase, type TestDatabase } from "../src/testing";

let database: TestDatabase;
let write: SuccessWriter;
const now = new Date("2026-03-01T12:00:00.000Z");
const owner = "dwk_test";

beforeAll(async () => {
  database = await createTestDatabase();
  write = createSuccessWriter(database);
  await database.db.insert(webhookEndpoints).values([
    { id: "ep_failing", url: "https://example.com/a", eventTypes: ["call.ended"], failingSince: now },
    { id: "ep_other", url: "https://example.com/b", eventTypes: ["call.ended"], failingSince: now },
  ]);
});

afterAll(async () => {
  await database.destroy();
});

/** Queues one leased delivery to `endpointId` and returns its id. */
async function leasedDelivery(id: string, endpointId: string, leaseOwner = owner): Promise<string> {
  await database.db.insert(outboundMessages).values({ id: `msg_${id}`, eventType: "call.ended", body: "{}" });
  await database.db.insert(deliveries).values({
    id,
    messageId: `msg_${id}`,
    target: "endpoint",
    endpointId,
    attempts: 1,
    nextAttemptAt: new Date(now.getTime() + 60_000),
    leaseOwner,
    leaseExpiresAt: new Date(now.getTime() + 60_000),
  });
  return id;
}

function success(deliveryId: string, statusCode: number | null, responseBody: string | null): DeliverySuccess {
  return {
    deliveryId,
    attempt: {
      id: `att_${deliveryId}`,
      deliveryId,
      attemptNumber: 1,
      startedAt: new Date(now.getTime() - 250),
      durationMs: 42,
      statusCode,
      responseBody,
      error: null,
    },
  };
}

describe("success writer", () => {
  test("response bodies kept byte for byte", async () => {
    const bodies = [
      'a "quoted" {brace}, comma',
      "back\\slash and \\\\ two",
      "NULL",
      "",
      "line\nbreak\ttab",
      "ünïcödé ✓ 🚀",
      null,
    ];
    const ids = await Promise.all(bodies.map((_, index) => leasedDelivery(`dlv_body_${index}`, "ep_failing")));

    const marked = await write({
      owner,
      now,
      successes: ids.map((id, index) => success(id, 200 + index, bodies[index] ?? null)),
      endpointIds: ["ep_failing"],
    });

    expect([...marked].sort()).toEqual([...ids].sort());
    const attempts = await database.db
      .select()
      .from(deliveryAttempts)
      .where(inArray(deliveryAttempts.deliveryId, ids))
      .orderBy(asc(deliveryAttempts.deliveryId));
    expect(attempts.map((attempt) => attempt.responseBody)).toEqual(bodies);
    expect(attempts.map((attempt) => attempt.statusCode)).toEqual(bodies.map((_, index) => 200 + index));
    expect(attempts[0]?.startedAt.toISOString()).toBe("2026-03-01T11:59:59.750Z");
    expect(attempts[0]?.durationMs).toBe(42);
  });

  test("marks deliveries and clears failing endpoint", async () => {
    const first = await leasedDelivery("dlv_status_a", "ep_failing");
    const second = await leasedDelivery("dlv_status_b", "ep_failing");
    await database.db.update(webhookEndpoints).set({ failingSince: now }).where(eq(webhookEndpoints.id, "ep_failing"));

    await write({
      owner,
      now,
      successes: [success(first, 204, null), success(second, 200, "ok")],
      endpointIds: ["ep_failing"],
    });

    const rows = await database.db
      .select()
      .from(deliveries)
      .where(inArray(deliveries.id, [first, second]))
      .orderBy(asc(deliveries.id));
    expect(rows.map((row) => [row.status, row.lastStatusCode, row.leaseOwner, row.nextAttemptAt])).toEqual([
      ["succeeded", 204, null, null],
      ["succeeded", 200, null, null],
    ]);
    expect(rows[0]?.completedAt?.toISOString()).toBe(now.toISOString());
    const [failing] = await database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, "ep_failing"));
    const [other] = await database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, "ep_other"));
    expect(failing?.failingSince).toBeNull();
    expect(other?.failingSince?.toISOString()).toBe(now.toISOString());
  });

  test("taken-over delivery keeps its state", async () => {
    const taken = await leasedDelivery("dlv_taken", "ep_other", "dwk_someone_else");

    const marked = await write({ owner, now, successes: [success(taken, 200, "ok")], endpointIds: [] });

    expect(marked.size).toBe(0);
    const [row] = await database.db.select().from(deliveries).where(eq(deliveries.id, taken));
    expect(row?.status).toBe("pending");
    expect(row?.leaseOwner).toBe("dwk_someone_else");
    const attempts = await database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, taken));
    expect(attempts).toHaveLength(1);
  });

  test("duplicate attempt id writes nothing", async () => {
    const fresh = await leasedDelivery("dlv_atomic", "ep_other");
    const duplicate = {
      ...success(fresh, 200, "ok"),
      attempt: { ...success(fresh, 200, "ok").attempt, id: "att_dlv_taken" },
    };

    await expect(write({ owner, now, successes: [duplicate], endpointIds: [] })).rejects.toThrow();

    const [row] = await database.db.select().from(deliveries).where(eq(deliveries.id, fresh));
    expect(row?.status).toBe("pending");
    expect(row?.leaseOwner).toBe(owner);
  });
});
