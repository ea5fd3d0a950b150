/**
 * Ingest benchmark. Starts the service on real Postgres and, in the same run, a baseline: a bare
 * Bun.serve route with the same HMAC check and one insert per request. A separate load process drives
 * each with signed Surge payments at 64 connections. The script prints acknowledged events per second,
 * p50 and p99 acknowledgement latency, the service/baseline ratio, how long processing took, how soon
 * an event is processed under light load, and the service's peak memory.
 *
 * Usage: bun run bench:ingest [--events N] [--concurrency N] [--rounds N]
 * BENCH_DATABASE_URL selects the Postgres server (default postgres://postgres@127.0.0.1:5432/postgres);
 * BENCH_SERVICE_LOG names a file for the service's log lines (default: discarded).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { accounts, invoices, migrateDatabase, openDatabase, webhookEvents } from "@basalt/db";
import { count, eq } from "drizzle-orm";
import postgres from "postgres";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "64" },
    rounds: { type: "string", default: "2" },
  },
});
const eventsPerRound = Number(values.events);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const warmupEvents = 2_000;
/** Events sent one at a time to measure how soon an event is processed under light load. */
const lightLoadEvents = 100;
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const secret = crypto.getRandomValues(new Uint8Array(32)).toHex();
const root = new URL("../..", import.meta.url).pathname;
const stamp = Date.now().toString(36);
const serviceDatabase = `basalt_bench_service_${stamp}`;
const baselineDatabase = `basalt_bench_baseline_${stamp}`;

interface LoadResult {
  count: number;
  failures: number;
  elapsedSeconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function databaseUrl(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port ?? 0;
  await probe.stop(true);
  return port;
}

async function waitForReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      if ((await fetch(url)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not become ready`);
}

async function runLoad(url: string, invoicePrefix: string, paymentPrefix: string, events: number): Promise<LoadResult> {
  const load = Bun.spawn(
    [
      "bun",
      `${root}scripts/bench/load.ts`,
      url,
      String(events),
      String(concurrency),
      secret,
      invoicePrefix,
      paymentPrefix,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const output = await new Response(load.stdout).text();
  if ((await load.exited) !== 0) {
    throw new Error("the load process failed");
  }
  return JSON.parse(output) as LoadResult;
}

/** Seeds one open 499.00 USDC invoice per event so that every payment has real side effects. */
async function seedInvoices(db: Awaited<ReturnType<typeof openDatabase>>["db"], prefixes: string[]): Promise<void> {
  await db.insert(accounts).values({ id: "acct_bench", name: "Benchmark" });
  for (const prefix of prefixes) {
    const total = prefix.includes("warm") ? warmupEvents : prefix.includes("light") ? lightLoadEvents : eventsPerRound;
    for (let start = 0; start < total; start += 1_000) {
      const rows = Array.from({ length: Math.min(1_000, total - start) }, (_, offset) => ({
        id: `${prefix}${start + offset}`,
        accountId: "acct_bench",
        number: `${prefix}${start + offset}`,
        amount: "499.00",
        currency: "USDC",
      }));
      await db.insert(invoices).values(rows);
    }
  }
}

function peakMemoryMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${serviceDatabase}`);
await admin.unsafe(`create database ${baselineDatabase}`);

const service = await openDatabase({ url: databaseUrl(serviceDatabase), maxConnections: 2 });
const processes: ReturnType<typeof Bun.spawn>[] = [];
try {
  await migrateDatabase(service, databaseUrl(serviceDatabase));
  const prefixes = ["inv_warm_", "inv_light_", ...Array.from({ length: rounds }, (_, round) => `inv_r${round}_`)];
  await seedInvoices(service.db, prefixes);

  const servicePort = await freePort();
  const serviceProcess = Bun.spawn(["bun", "--no-env-file", `${root}apps/server/src/main.ts`], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(serviceDatabase),
      PORT: String(servicePort),
      HOST: "127.0.0.1",
      SURGE_WEBHOOK_SECRET: secret,
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
    },
    stdout: Bun.file(process.env.BENCH_SERVICE_LOG ?? "/dev/null"),
    stderr: "inherit",
  });
  processes.push(serviceProcess);
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  await waitForReady(`${serviceUrl}/readyz`);

  const baselinePort = await freePort();
  const baselineProcess = Bun.spawn(["bun", `${root}scripts/bench/baseline-server.ts`], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(baselineDatabase),
      PORT: String(baselinePort),
      SURGE_WEBHOOK_SECRET: secret,
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  processes.push(baselineProcess);
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  await waitForReady(`${baselineUrl}/`).catch(() => {});

  const pending = async () =>
    (await service.db.select({ value: count() }).from(webhookEvents).where(eq(webhookEvents.status, "pending")))[0]
      ?.value ?? 0;
  const waitUntilProcessed = async (): Promise<number> => {
    const startedAt = performance.now();
    while ((await pending()) > 0) {
      await Bun.sleep(50);
    }
    return (performance.now() - startedAt) / 1000;
  };

  const surgeRoute = `${serviceUrl}/api/webhooks/surge`;
  await runLoad(surgeRoute, "inv_warm_", "pay_warm", warmupEvents);
  await waitUntilProcessed();
  await runLoad(`${baselineUrl}/`, "inv_warm_", "pay_warm", warmupEvents);

  const serviceResults: (LoadResult & { processedSeconds: number })[] = [];
  const baselineResults: LoadResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const runService = async () => {
      const result = await runLoad(surgeRoute, `inv_r${round}_`, `pay_r${round}`, eventsPerRound);
      serviceResults.push({ ...result, processedSeconds: result.elapsedSeconds + (await waitUntilProcessed()) });
    };
    const runBaseline = async () => {
      baselineResults.push(await runLoad(`${baselineUrl}/`, `inv_r${round}_`, `pay_r${round}`, eventsPerRound));
    };
    // Alternate the order so neither side always runs on a warmer or cooler machine.
    if (round % 2 === 0) {
      await runService();
      await runBaseline();
    } else {
      await runBaseline();
      await runService();
    }
  }

  // Light load: one event at a time, each followed by a wait until the database shows it processed.
  const processingDelays: number[] = [];
  for (let index = 0; index < lightLoadEvents; index++) {
    const body = JSON.stringify({
      type: "payment.confirmed",
      data: { id: `pay_light_${index}`, external_id: `inv_light_${index}`, amount: "499.00", currency: "USDC" },
    });
    const signature = new Bun.CryptoHasher("sha256", new TextEncoder().encode(secret)).update(body).digest("hex");
    const response = await fetch(surgeRoute, { method: "POST", body, headers: { "x-surge-signature": signature } });
    const acknowledgedAt = performance.now();
    const { id } = (await response.json()) as { id: string };
    for (;;) {
      const [row] = await service.db
        .select({ status: webhookEvents.status })
        .from(webhookEvents)
        .where(eq(webhookEvents.id, id));
      if (row?.status !== "pending") {
        break;
      }
      await Bun.sleep(1);
    }
    processingDelays.push(performance.now() - acknowledgedAt);
    await Bun.sleep(20);
  }
  processingDelays.sort((left, right) => left - right);
  const delayPercentile = (fraction: number) =>
    processingDelays[Math.min(processingDelays.length - 1, Math.floor(processingDelays.length * fraction))] ?? 0;

  const statusCounts = await service.db
    .select({ status: webhookEvents.status, value: count() })
    .from(webhookEvents)
    .groupBy(webhookEvents.status);
  const peakMb = peakMemoryMb(serviceProcess.pid);
  const mean = (numbers: number[]) => numbers.reduce((sum, value) => sum + value, 0) / numbers.length;
  const serviceRate = mean(serviceResults.map((result) => result.perSecond));
  const baselineRate = mean(baselineResults.map((result) => result.perSecond));
  const ratio = serviceRate / baselineRate;
  const serviceP99 = Math.max(...serviceResults.map((result) => result.p99Ms));
  const processedAll = statusCounts.every((row) => row.status === "processed");

  const line = (name: string, results: LoadResult[]) =>
    results
      .map(
        (result, index) =>
          `  ${name} round ${index + 1}: ${result.perSecond.toFixed(0)} events/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.failures} non-200${result.failures ? ` ${JSON.stringify((result as LoadResult & { firstFailure?: string }).firstFailure)}` : ""}`,
      )
      .join("\n");
  console.log(
    `Ingest benchmark: ${eventsPerRound} signed events per round, ${concurrency} connections, ${rounds} rounds\n`,
  );
  console.log(line("service ", serviceResults));
  console.log(line("baseline", baselineResults));
  console.log(
    serviceResults
      .map(
        (result, index) =>
          `  service round ${index + 1}: every event processed ${result.processedSeconds.toFixed(2)} s after the first request`,
      )
      .join("\n"),
  );
  console.log(
    `  light load: ${lightLoadEvents} events one at a time, processed ${delayPercentile(0.5).toFixed(1)} ms (p50) and ${delayPercentile(0.99).toFixed(1)} ms (p99) after their acknowledgement (target about 100 ms)`,
  );
  console.log(`\n  events by status: ${statusCounts.map((row) => `${row.status} ${row.value}`).join(", ")}`);
  console.log(`  mean rate: service ${serviceRate.toFixed(0)}/s, baseline ${baselineRate.toFixed(0)}/s`);
  console.log(`  ratio service/baseline: ${ratio.toFixed(2)} (target ≥ 0.80) ${ratio >= 0.8 ? "PASS" : "FAIL"}`);
  console.log(`  service p99: ${serviceP99.toFixed(1)} ms (target ≤ 25 ms) ${serviceP99 <= 25 ? "PASS" : "FAIL"}`);
  console.log(`  every event processed: ${processedAll ? "yes PASS" : "no FAIL"}`);
  console.log(`  service peak memory: ${peakMb.toFixed(0)} MB (target < 250 MB) ${peakMb < 250 ? "PASS" : "FAIL"}`);
} finally {
  for (const child of processes) {
    child.kill("SIGTERM");
    await child.exited;
  }
  await service.close();
  await admin.unsafe(`drop database if exists ${serviceDatabase} with (force)`);
  await admin.unsafe(`drop database if exists ${baselineDatabase} with (force)`);
  await admin.end();
}
