/**
 * Creates demo CRM records and prints their ids as JSON. With DATABASE_URL it writes to that Postgres.
 * With the embedded database it sends the request to the running server, because PGlite serves one
 * process, or opens the database itself when no server is running.
 */
import { type DemoRecords, seedDemoRecords } from "@basalt/core";
import { migrateDatabase, openDatabase } from "@basalt/db";
import { DataFolder, isProcessAlive } from "@basalt/server/data-folder";

const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
const folder = new DataFolder(process.env.DATA_DIR?.trim() || ".data");

async function seedThroughServer(url: string): Promise<DemoRecords> {
  const apiKey = process.env.INTERNAL_API_KEY?.trim() || folder.readOrCreate("internal-api-key", () => "").value;
  const response = await fetch(`${url}/api/internal/seed`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (response.status !== 201) {
    throw new Error(`The server at ${url} responded with ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as DemoRecords;
}

async function seedDirectly(): Promise<DemoRecords> {
  const database = await openDatabase({ url: databaseUrl, dataDir: databaseUrl ? undefined : folder.databasePath });
  try {
    await migrateDatabase(database, databaseUrl);
    return await seedDemoRecords(database.db);
  } finally {
    await database.close();
  }
}

try {
  const server = databaseUrl ? null : folder.readServerFile();
  const records = server && isProcessAlive(server.pid) ? await seedThroughServer(server.url) : await seedDirectly();
  console.log(JSON.stringify(records, null, 2));
} catch (error) {
  console.error(`Seeding failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
