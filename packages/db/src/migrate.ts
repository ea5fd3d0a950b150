import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import type { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { Database, DatabaseHandle } from "./client";

const migrationsFolder = new URL("../drizzle", import.meta.url).pathname;

/** Serialises migrations when several processes start against one database at once. */
const migrationLockKey = 7_461_203_118;

/**
 * Applies the committed migrations. On Postgres they run on a connection of their own that holds an
 * advisory lock, so processes that start together apply each migration once.
 */
export async function migrateDatabase(handle: DatabaseHandle, url?: string): Promise<void> {
  if (handle.kind === "embedded") {
    await migratePglite(handle.db as unknown as ReturnType<typeof drizzlePglite>, { migrationsFolder });
    return;
  }
  if (!url) {
    throw new Error("migrateDatabase needs the Postgres URL to open its own connection");
  }
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${migrationLockKey})`;
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder });
  } finally {
    await client`select pg_advisory_unlock(${migrationLockKey})`.catch(() => {});
    await client.end({ timeout: 5 });
  }
}

interface Journal {
  entries: { tag: string }[];
}

/** Counts the committed migrations that the database has not applied yet. */
export async function countPendingMigrations(db: Database): Promise<number> {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, "utf8")) as Journal;
  const tableExists = await db.execute<{ present: boolean }>(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!rowsOf<{ present: boolean }>(tableExists)[0]?.present) {
    return journal.entries.length;
  }
  const applied = await db.execute<{ count: number }>(
    sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
  );
  return Math.max(0, journal.entries.length - (rowsOf<{ count: number }>(applied)[0]?.count ?? 0));
}

/** The two drivers return rows differently from `execute`: postgres.js as an array, PGlite under `rows`. */
export function rowsOf<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) {
    return result as Row[];
  }
  return ((result as { rows?: Row[] }).rows ?? []) as Row[];
}
