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

if (process.argv.slice(2).some((argument) => argument === "--help" || argument === "-h")) {
  console.log(`Usage: bun run seed

Creates demo CRM records (an account, a lead, an opportunity, a 499.00 USDC invoice with 100 LeadGen
credits, an outreach email and a call route) and prints their ids as JSON. Every run creates new records.
With DATABASE_URL it writes to that Postgres; otherwise to the embedded database in DATA_DIR (.data).`);
  process.exit(0);
}

async function seedThroughServer(url: string): Promise<DemoRecords> {
  const apiKey = process.env.INTERNAL_API_KEY?.trim() || folder.readInternalApiKey() || "";
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
