import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import {
  countPendingMigrations,
  isDatabaseUnavailable,
  isUniqueViolation,
  openDatabase,
  rootCause,
  rowsOf,
  webhookEvents,
} from "../src";
import { createTestDatabase, type TestDatabase, testDatabaseKind } from "../src/testing";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.destroy();
});

const sampleEvent = (id: string, body: Uint8Array) => ({
  id,
  source: "surge" as const,
  idempotencyKey: id,
  eventType: "payment.confirmed",
  status: "pending" as const,
  body,
  headers: {},
  verifiedBy: "env",
  receivedAt: new Date(),
});

describe("database client", () => {
  test("applies every migration", async () => {
    expect(await countPendingMigrations(database.db)).toBe(0);
  });

  test("keeps bytea bodies byte for byte", async () => {
    const body = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x00, 0xff, 0x7d, 0x0d, 0x0a]);
    await database.db.insert(webhookEvents).values(sampleEvent("evt_bytes", body));

    const [row] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.id, "evt_bytes"));

    expect(row?.body).toBeInstanceOf(Uint8Array);
    expect(Array.from(row?.body ?? [])).toEqual(Array.from(body));
  });

  test("reports a duplicate key as a unique violation", async () => {
    await database.db.insert(webhookEvents).values(sampleEvent("evt_unique", new Uint8Array([1])));

    const error = await database.db
      .insert(webhookEvents)
      .values(sampleEvent("evt_unique", new Uint8Array([1])))
      .then(() => null)
      .catch((caught: unknown) => caught);

    expect(isUniqueViolation(error)).toBe(true);
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe("unavailable database", () => {
  test("refused connection counts as unavailable", async () => {
    const handle = await openDatabase({ url: "postgres://postgres@127.0.0.1:1/none", connectTimeoutSeconds: 2 });
    const error = await handle.ping().then(
      () => null,
      (caught: unknown) => caught,
    );
    await handle.close();

    expect(error).not.toBeNull();
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test.skipIf(testDatabaseKind === "embedded")("missing database counts as unavailable", async () => {
    const url = new URL(database.url ?? "");
    url.pathname = "/basalt_no_such_database";
    const handle = await openDatabase({ url: url.toString() });
    const error = await handle.ping().then(
      () => null,
      (caught: unknown) => caught,
    );
    await handle.close();

    expect((rootCause(error) as { code?: string }).code).toBe("3D000");
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test.skipIf(testDatabaseKind === "embedded")("read-only standby counts as unavailable", async () => {
    // A standby after a failover accepts connections but refuses writes, as this setting does.
    const url = new URL(database.url ?? "");
    url.searchParams.set("default_transaction_read_only", "on");
    const handle = await openDatabase({ url: url.toString() });
    const error = await handle.db
      .insert(webhookEvents)
      .values(sampleEvent("evt_read_only", new Uint8Array([0x7b, 0x7d])))
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    await handle.close();

    expect((rootCause(error) as { code?: string }).code).toBe("25006");
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test("closed embedded database counts as unavailable", async () => {
    const handle = await openDatabase({});
    await handle.close();

    const error = await handle.ping().then(
      () => null,
      (caught: unknown) => caught,
    );

    expect(isDatabaseUnavailable(error)).toBe(true);
  });
});

describe.skipIf(testDatabaseKind === "embedded")("prepared statements", () => {
  /** Runs one Drizzle query with a parameter, then counts the statements prepared on the only connection. */
  async function preparedAfterQuery(url: string): Promise<number> {
    const handle = await openDatabase({ url, maxConnections: 1 });
    try {
      await handle.db.select().from(webhookEvents).where(eq(webhookEvents.id, "evt_missing"));
      const rows = await handle.db.execute(sql`select count(*)::int as prepared from pg_prepared_statements`);
      return rowsOf<{ prepared: number }>(rows)[0]?.prepared ?? -1;
    } finally {
      await handle.close();
    }
  }

  test("Drizzle queries are prepared", async () => {
    expect(await preparedAfterQuery(database.url ?? "")).toBeGreaterThan(0);
  });

  test("prepare=false in the URL turns them off", async () => {
    const url = new URL(database.url ?? "");
    url.searchParams.set("prepare", "false");

    expect(await preparedAfterQuery(url.toString())).toBe(0);
  });
});

describe("timestamps", () => {
  test.each([
    "0001-01-01T00:00:00.000Z",
    "0050-03-01T12:00:00.000Z",
    "0999-12-31T23:59:59.999Z",
    "2026-03-01T12:34:56.789Z",
    "9999-12-31T23:59:59.999Z",
  ])("%s reads back unchanged", async (iso) => {
    const id = `evt_time_${iso.slice(0, 4)}`;
    await database.db
      .insert(webhookEvents)
      .values({ ...sampleEvent(id, new Uint8Array([0x7b, 0x7d])), receivedAt: new Date(iso) });

    const [row] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.id, id));

    expect(row?.receivedAt.toISOString()).toBe(iso);
  });

  test("session offset reads back", async () => {
    const id = "evt_time_offset";
    const iso = "2026-03-01T12:00:00.250Z";
    await database.db
      .insert(webhookEvents)
      .values({ ...sampleEvent(id, new Uint8Array([0x7b, 0x7d])), receivedAt: new Date(iso) });

    // Postgres writes the time in the session's zone, here with a +05:30 offset.
    const row = await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local time zone 'Asia/Kolkata'`);
      const [found] = await tx.select().from(webhookEvents).where(eq(webhookEvents.id, id));
      return found;
    });

    expect(row?.receivedAt.toISOString()).toBe(iso);
  });
});
