import postgres from "postgres";
import { type DatabaseHandle, openDatabase } from "./client";
import { migrateDatabase } from "./migrate";

export interface TestDatabase extends DatabaseHandle {
  /** The URL of this test's own Postgres database; undefined on the embedded database. */
  readonly url: string | undefined;
  /** Closes the connection and drops the test's database. */
  destroy(): Promise<void>;
}

/** The database the tests run on: real Postgres when `DATABASE_URL` is set, else embedded PGlite. */
export const testDatabaseKind = process.env.DATABASE_URL ? "postgres" : "embedded";

/**
 * Creates a migrated database for one test file: a fresh Postgres database next to the one in
 * `DATABASE_URL`, or an in-memory PGlite database when `DATABASE_URL` is unset.
 */
export async function createTestDatabase(options: { maxConnections?: number } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const handle = await openDatabase({});
    await migrateDatabase(handle);
    return { ...handle, url: undefined, destroy: () => handle.close() };
  }

  const name = `basalt_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), maxConnections: options.maxConnections ?? 10 });
  await migrateDatabase(handle, url.toString());
  return {
    ...handle,
    url: url.toString(),
    async destroy() {
      await handle.close();
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
