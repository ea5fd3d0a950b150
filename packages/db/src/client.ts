import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Database | Transaction;

export type DatabaseKind = "postgres" | "embedded";

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: DatabaseKind;
  /** The postgres.js client behind `db`, for LISTEN and NOTIFY; null on the embedded database. */
  readonly postgresClient: postgres.Sql | null;
  /** Runs a trivial query; throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A `postgres://` URL. Without one, an embedded PGlite database is opened. */
  url?: string | undefined;
  /** Folder of the embedded database. Without one, the embedded database lives in memory. */
  dataDir?: string | undefined;
  /** Most connections the pool opens to real Postgres. */
  maxConnections?: number;
  /** Seconds to wait for a Postgres connection before a query fails as unavailable. */
  connectTimeoutSeconds?: number;
}

const casing = "snake_case";

/** Opens real Postgres through the `postgres` driver when a URL is given, else embedded PGlite. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    return openPostgres(options.url, options);
  }
  return openEmbedded(options.dataDir);
}

function openPostgres(url: string, options: OpenDatabaseOptions): DatabaseHandle {
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: 60,
    onnotice: () => {},
  });
  const db = drizzlePostgres({ client: preparingStatements(client), schema, casing }) as unknown as Database;
  return {
    db,
    kind: "postgres",
    postgresClient: client,
    async ping() {
      await client`select 1`;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * Returns the client with Drizzle's queries prepared as named statements. Drizzle passes `prepare: false`
 * to postgres.js, and postgres.js then describes every query with parameters before running it: two
 * round trips, the second waiting for a busy event loop. A prepared statement takes one round trip
 * from its second use on a connection. `?prepare=false` in DATABASE_URL still turns preparing off for
 * a pooler in transaction mode.
 */
function preparingStatements<T extends postgres.Sql | postgres.TransactionSql>(client: T): T {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key === "unsafe") {
        return (query: string, parameters?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, parameters, { ...options, prepare: true });
      }
      if (key === "begin" || key === "savepoint") {
        return (...args: unknown[]) => {
          const callback = args.at(-1) as (transaction: postgres.TransactionSql) => unknown;
          const begin = Reflect.get(target, key, receiver) as (...rest: unknown[]) => unknown;
          return begin.call(target, ...args.slice(0, -1), (transaction: postgres.TransactionSql) =>
            callback(preparingStatements(transaction)),
          );
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

async function openEmbedded(dataDir: string | undefined): Promise<DatabaseHandle> {
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
  }
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite({ client, schema, casing }) as unknown as Database;
  return {
    db,
    kind: "embedded",
    postgresClient: null,
    async ping() {
      await client.query("select 1");
    },
    async close() {
      if (!client.closed) {
        await client.close();
      }
    },
  };
}
