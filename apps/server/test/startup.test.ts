import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accounts, invoices, openDatabase, opportunities, webhookEvents, webhookSecrets } from "@basalt/db";
import { createTestDatabase, testDatabaseKind } from "@basalt/db/testing";
import { eq } from "drizzle-orm";
import { freePort, run, start, waitFor, waitForServerFile } from "./processes";

setDefaultTimeout(90_000);

const temporaryFolders: string[] = [];

function temporaryDataDir(): string {
  const folder = mkdtempSync(join(tmpdir(), "basalt-startup-"));
  temporaryFolders.push(folder);
  return folder;
}

afterAll(() => {
  for (const folder of temporaryFolders) {
    rmSync(folder, { recursive: true, force: true });
  }
});

const surgeSecret = "startup-test-secret-0123456789abcdef";

interface DemoRecords {
  invoiceId: string;
  accountId: string;
  opportunityId: string;
  leadgenCredits: number;
}

describe("configuration at startup", () => {
  test("invalid variable stops the process naming it", async () => {
    const result = await run(["bun", "--no-env-file", "apps/server/src/main.ts"], {
      DATA_DIR: temporaryDataDir(),
      PORT: "not-a-port",
      SURGE_WEBHOOK_SECRET: "tiny",
    });

    expect(result.code).toBe(78);
    expect(result.stderr).toContain("PORT:");
    expect(result.stderr).toContain("SURGE_WEBHOOK_SECRET:");
    expect(result.stderr).not.toContain("tiny");
  });

  test("unknown role is refused", async () => {
    const result = await run(["bun", "--no-env-file", "apps/server/src/main.ts", "--role", "everything"], {
      DATA_DIR: temporaryDataDir(),
    });

    expect(result.code).toBe(78);
    expect(result.stderr).toContain("--role");
  });
});

describe.if(testDatabaseKind === "embedded")("first start on the embedded database", () => {
  test("seed and trigger pay an invoice once", async () => {
    const dataDir = temporaryDataDir();
    const server = start(["bun", "--no-env-file", "apps/server/src/main.ts"], {
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
    });
    try {
      const url = await waitForServerFile(dataDir, server);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(existsSync(join(dataDir, "generated-secrets.json"))).toBe(true);

      const second = await run(["bun", "--no-env-file", "apps/server/src/main.ts"], { DATA_DIR: dataDir, PORT: "0" });
      expect(second.code).toBe(78);
      expect(second.stdout + second.stderr).toContain("embedded database serves one process");

      const seeded = await run(["bun", "--no-env-file", "scripts/seed.ts"], { DATA_DIR: dataDir });
      expect(seeded.code).toBe(0);
      const records = JSON.parse(seeded.stdout) as DemoRecords;

      const triggered = await run(
        ["bun", "--no-env-file", "scripts/trigger.ts", "surge", "payment.confirmed", "--invoice", records.invoiceId],
        {
          DATA_DIR: dataDir,
        },
      );
      expect(triggered.code).toBe(0);
      expect(triggered.stdout).toContain("HTTP 200");
      expect(triggered.stdout).toContain("Processed: its side effects are applied.");
      await waitFor("the payment to be processed", () =>
        server.output().includes('"outcome":"processed"') ? true : undefined,
      );

      const unknownInvoice = await run(
        ["bun", "--no-env-file", "scripts/trigger.ts", "surge", "payment.confirmed", "--invoice", "inv_missing"],
        { DATA_DIR: dataDir },
      );
      expect(unknownInvoice.code).toBe(1);
      expect(unknownInvoice.stderr).toContain("Processing failed and will be retried: invoice inv_missing not found");

      expect(await server.stop()).toBe(0);
      expect(existsSync(join(dataDir, "server.json"))).toBe(false);
    } finally {
      server.process.kill("SIGKILL");
    }

    const database = await openDatabase({ dataDir: join(dataDir, "pglite") });
    try {
      const [invoice] = await database.db.select().from(invoices);
      expect(invoice?.status).toBe("PAID");
      const [account] = await database.db.select().from(accounts);
      expect(account?.leadgenCredits).toBe(100);
      const [opportunity] = await database.db.select().from(opportunities);
      expect(opportunity?.stage).toBe("Closed Won");
      expect(await database.db.$count(webhookSecrets)).toBe(4);
    } finally {
      await database.close();
    }
  });

  test("seed without a running server opens the database", async () => {
    const dataDir = temporaryDataDir();

    const seeded = await run(["bun", "--no-env-file", "scripts/seed.ts"], { DATA_DIR: dataDir });

    expect(seeded.code).toBe(0);
    expect((JSON.parse(seeded.stdout) as DemoRecords).invoiceId).toStartWith("inv_");
  });
});

describe.if(testDatabaseKind === "postgres")("start on real Postgres", () => {
  test("seed and trigger pay an invoice once", async () => {
    const database = await createTestDatabase();
    const databaseUrl = database.url ?? "";
    const port = await freePort();
    const env = { DATABASE_URL: databaseUrl, SURGE_WEBHOOK_SECRET: surgeSecret, DATA_DIR: temporaryDataDir() };
    const server = start(["bun", "--no-env-file", "apps/server/src/main.ts"], {
      ...env,
      PORT: String(port),
      HOST: "127.0.0.1",
    });
    try {
      await waitFor("readiness", async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok ? true : undefined,
      );
      expect(await database.db.$count(webhookSecrets)).toBe(0);

      const seeded = await run(["bun", "--no-env-file", "scripts/seed.ts"], env);
      expect(seeded.code).toBe(0);
      const records = JSON.parse(seeded.stdout) as DemoRecords;

      const triggered = await run(
        [
          "bun",
          "scripts/trigger.ts",
          "surge",
          "payment.confirmed",
          "--invoice",
          records.invoiceId,
          "--url",
          `http://127.0.0.1:${port}`,
        ],
        env,
      );
      expect(triggered.code).toBe(0);

      const invoice = await waitFor("the invoice to be paid", async () => {
        const [row] = await database.db.select().from(invoices).where(eq(invoices.id, records.invoiceId));
        return row?.status === "PAID" ? row : undefined;
      });
      expect(invoice.paidCurrency).toBe("USDC");
      const [account] = await database.db.select().from(accounts).where(eq(accounts.id, records.accountId));
      expect(account?.leadgenCredits).toBe(records.leadgenCredits);
      const [opportunity] = await database.db
        .select()
        .from(opportunities)
        .where(eq(opportunities.id, records.opportunityId));
      expect(opportunity?.stage).toBe("Closed Won");

      expect(await server.stop()).toBe(0);
    } finally {
      server.process.kill("SIGKILL");
      await database.destroy();
    }
  });

  test("separate HTTP and worker processes share the work", async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const env = {
      DATABASE_URL: database.url ?? "",
      SURGE_WEBHOOK_SECRET: surgeSecret,
      WORKER_POLL_INTERVAL_MS: "60000",
    };
    const http = start(["bun", "--no-env-file", "apps/server/src/main.ts", "--role", "http"], {
      ...env,
      PORT: String(port),
      HOST: "127.0.0.1",
    });
    const worker = start(["bun", "--no-env-file", "apps/server/src/main.ts", "--role", "worker"], env);
    try {
      await waitFor("readiness", async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok ? true : undefined,
      );
      await waitFor("the worker to listen", () =>
        worker.output().includes("worker process started") ? true : undefined,
      );

      const triggered = await run(
        [
          "bun",
          "scripts/trigger.ts",
          "surge",
          "payment.confirmed",
          "--invoice",
          "inv_unknown",
          "--url",
          `http://127.0.0.1:${port}`,
        ],
        env,
      );
      expect(triggered.code).toBe(0);

      // The worker polls only once a minute here, so processing soon means the HTTP process woke it.
      const [event] = await waitFor("the worker to attempt the event", async () => {
        const rows = await database.db.select().from(webhookEvents).where(eq(webhookEvents.attempts, 1));
        return rows.length > 0 ? rows : undefined;
      });
      expect(event?.lastError).toBe("invoice inv_unknown not found");

      expect(await http.stop()).toBe(0);
      expect(await worker.stop()).toBe(0);
    } finally {
      http.process.kill("SIGKILL");
      worker.process.kill("SIGKILL");
      await database.destroy();
    }
  });
});
