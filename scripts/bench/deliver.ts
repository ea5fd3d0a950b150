/**
 * Delivery benchmark. Queues `call.ended` deliveries for one endpoint at once and lets the service's
 * delivery worker (a real `--role worker` process on Postgres) sign and send them to a local HTTPS
 * receiver; then, in the same run, a bare loop sends the same number of signed fetch calls at the same
 * concurrency, trusting the same CAs.
 * Prints deliveries per second for both, the ratio, p99 time from queueing to receipt, whether every
 * attempt was logged, and the worker's peak memory.
 *
 * Usage: bun run bench:deliver [--deliveries N] [--concurrency N]
 * BENCH_DATABASE_URL selects the Postgres server (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  createEndpoint,
  defaultDeliverySettings,
  newId,
  type OutboundContext,
  SecretCipher,
  silentLogger,
  systemClock,
} from "@basalt/core";
import { deliveries, deliveryAttempts, migrateDatabase, openDatabase, outboundMessages } from "@basalt/db";
import { count, eq, sql } from "drizzle-orm";
import postgres from "postgres";

const { values } = parseArgs({
  options: {
    deliveries: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "32" },
    workers: { type: "string", default: "1" },
    rounds: { type: "string", default: "5" },
  },
});
const total = Number(values.deliveries);
const concurrency = Number(values.concurrency);
const workerCount = Number(values.workers);
const roundCount = Number(values.rounds);
const warmup = 2_000;
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const root = new URL("../..", import.meta.url).pathname;
const caFile = `${root}packages/core/test/fixtures/tls/ca-cert.pem`;
const databaseName = `basalt_bench_deliver_${Date.now().toString(36)}`;
const databaseUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
})();

interface PathStats {
  count: number;
  arrivalsMs: number[];
}

const percentile = (numbers: number[], fraction: number) => {
  const sorted = [...numbers].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
};

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await reader.read();
    if (chunk.done) {
      break;
    }
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  return text.split("\n")[0] ?? "";
}

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${databaseName}`);
const database = await openDatabase({ url: databaseUrl, maxConnections: 4 });
const processes: ReturnType<typeof Bun.spawn>[] = [];
try {
  await migrateDatabase(database, databaseUrl);
  const encryptionKey = SecretCipher.generateKey();
  const ctx: OutboundContext = {
    db: database.db,
    clock: systemClock,
    logger: silentLogger,
    cipher: await SecretCipher.fromBase64(encryptionKey),
    http: { allowLoopback: true, timeoutMs: 15_000 },
    integrations: {
      resend: { apiUrl: "http://127.0.0.1:9", apiKey: undefined, from: undefined },
      mercury: { apiUrl: "http://127.0.0.1:9", apiToken: undefined },
      openai: { apiUrl: "http://127.0.0.1:9", apiKey: undefined },
    },
    deliverySettings: defaultDeliverySettings,
  };

  const receiver = Bun.spawn(["bun", `${root}scripts/bench/https-receiver.ts`], { stdout: "pipe", stderr: "inherit" });
  processes.push(receiver);
  const receiverUrl = (JSON.parse(await readLine(receiver.stdout)) as { url: string }).url;
  const stats = async (path: string) =>
    (await (
      await fetch(`${receiverUrl}/stats?path=${path}`, { tls: { ca: readFileSync(caFile, "utf8") } })
    ).json()) as PathStats;

  const warm = await createEndpoint(ctx, { url: `${receiverUrl}/warm`, eventTypes: ["email.bounced"] });

  // The service's worker processes share the in-flight limit, so the total matches the bare loop's.
  const workers = Array.from({ length: workerCount }, () =>
    Bun.spawn(
      [
        "bun",
        ...(process.env.BENCH_WORKER_FLAGS?.split(" ").filter(Boolean) ?? []),
        "--no-env-file",
        `${root}apps/server/src/main.ts`,
        "--role",
        "worker",
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          SECRETS_ENCRYPTION_KEY: encryptionKey,
          OUTBOUND_ALLOW_LOOPBACK: "true",
          OUTBOUND_EXTRA_CA_FILE: caFile,
          DELIVERY_CONCURRENCY: String(Math.ceil(concurrency / workerCount)),
          LOG_FORMAT: "json",
          LOG_LEVEL: "info",
        },
        stdout: Bun.file(process.env.BENCH_SERVICE_LOG ?? "/dev/null"),
        stderr: "inherit",
      },
    ),
  );
  processes.push(...workers);

  /**
   * Queues `n` messages with one delivery each to `endpointId`, not yet due, with two multi-row INSERTs
   * per thousand; then makes them all due with one UPDATE and wakes the worker. Returns that moment, from
   * which queueing-to-receipt times count. The outbox's per-event fan-out is not what this measures.
   */
  const queue = async (type: string, endpointId: string, n: number) => {
    const later = new Date(Date.now() + 3_600_000);
    const messages = Array.from({ length: n }, (_, index) => ({
      id: newId("msg"),
      eventType: type,
      body: JSON.stringify({ type, timestamp: new Date().toISOString(), data: { index } }),
    }));
    for (let start = 0; start < n; start += 1_000) {
      const chunk = messages.slice(start, start + 1_000);
      await database.db.insert(outboundMessages).values(chunk);
      await database.db.insert(deliveries).values(
        chunk.map((message) => ({
          id: newId("dlv"),
          messageId: message.id,
          target: "endpoint" as const,
          endpointId,
          nextAttemptAt: later,
        })),
      );
    }
    const releasedAtMs = Date.now();
    await database.db
      .update(deliveries)
      .set({ nextAttemptAt: new Date(releasedAtMs) })
      .where(eq(deliveries.endpointId, endpointId));
    await database.db.execute(sql`select pg_notify('basalt_webhook_events', '')`);
    return releasedAtMs;
  };
  const arrived = async (path: string) =>
    (
      (await (
        await fetch(`${receiverUrl}/count?path=${path}`, { tls: { ca: readFileSync(caFile, "utf8") } })
      ).json()) as { count: number }
    ).count;
  const waitFor = async (path: string, expected: number) => {
    const deadline = Date.now() + 600_000;
    for (let count = await arrived(path); count < expected; count = await arrived(path)) {
      if (Date.now() > deadline) {
        throw new Error(`only ${count} of ${expected} deliveries arrived at ${path}`);
      }
      await Bun.sleep(50);
    }
    return stats(path);
  };

  await queue("email.bounced", warm.id, warmup);
  await waitFor("/warm", warmup);

  // The machine is shared and noisy, so the two sides take turns and the medians are compared.
  const rounds: { serviceRate: number; bareRate: number; serviceLatencies: number[]; bareLatencies: number[] }[] = [];
  let bareFailures = 0;
  for (let round = 1; round <= roundCount; round++) {
    const endpoint = await createEndpoint(ctx, { url: `${receiverUrl}/service-${round}`, eventTypes: ["call.ended"] });
    const releasedAtMs = await queue("call.ended", endpoint.id, total);
    const service = await waitFor(`/service-${round}`, total);

    const bare = Bun.spawn(
      [
        "bun",
        ...(process.env.BENCH_BARE_FLAGS?.split(" ").filter(Boolean) ?? []),
        `${root}scripts/bench/bare-sender.ts`,
        `${receiverUrl}/bare-${round}`,
        String(total),
        String(concurrency),
        endpoint.secret,
        String(warmup),
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const bareResult = JSON.parse(await new Response(bare.stdout).text()) as {
      failures: number;
      startedAtMs: number;
      elapsedSeconds: number;
    };
    bareFailures += bareResult.failures;
    rounds.push({
      serviceRate: total / ((Math.max(...service.arrivalsMs) - releasedAtMs) / 1000),
      bareRate: total / bareResult.elapsedSeconds,
      serviceLatencies: service.arrivalsMs.map((arrival) => arrival - releasedAtMs),
      bareLatencies: (await stats(`/bare-${round}`)).arrivalsMs.map((arrival) => arrival - bareResult.startedAtMs),
    });
  }

  const [succeeded] = await database.db
    .select({ value: count() })
    .from(deliveries)
    .where(eq(deliveries.status, "succeeded"));
  const [attempts] = await database.db.select({ value: count() }).from(deliveryAttempts);
  const peakMb = Math.max(
    ...workers.map(
      (worker) =>
        Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, "utf8"))?.[1] ?? Number.NaN) / 1024,
    ),
  );

  const median = (numbers: number[]) => percentile(numbers, 0.5);
  const serviceRate = median(rounds.map((round) => round.serviceRate));
  const bareRate = median(rounds.map((round) => round.bareRate));
  const ratio = serviceRate / bareRate;
  const serviceLatencies = rounds.flatMap((round) => round.serviceLatencies);
  const bareLatencies = rounds.flatMap((round) => round.bareLatencies);
  const expected = total * roundCount + warmup;
  const allLogged = (attempts?.value ?? 0) === expected && (succeeded?.value ?? 0) === expected;
  console.log(
    `Delivery benchmark: ${roundCount} rounds of ${total} deliveries, ${concurrency} in flight across ${workerCount} worker processes, local HTTPS receiver\n`,
  );
  for (const [index, round] of rounds.entries()) {
    console.log(
      `  round ${index + 1}: service ${round.serviceRate.toFixed(0)}/s, bare ${round.bareRate.toFixed(0)}/s, ratio ${(round.serviceRate / round.bareRate).toFixed(2)}`,
    );
  }
  console.log(
    `\n  service: ${serviceRate.toFixed(0)} deliveries/s (median), p50 ${percentile(serviceLatencies, 0.5)} ms and p99 ${percentile(serviceLatencies, 0.99)} ms from queueing to receipt`,
  );
  console.log(
    `  bare fetch loop: ${bareRate.toFixed(0)} requests/s (median), p50 ${percentile(bareLatencies, 0.5)} ms and p99 ${percentile(bareLatencies, 0.99)} ms from start to receipt, ${bareFailures} failures`,
  );
  console.log(`\n  ratio of the medians: ${ratio.toFixed(2)} (target ≥ 0.50) ${ratio >= 0.5 ? "PASS" : "FAIL"}`);
  console.log(
    `  every attempt logged: ${attempts?.value} attempts for ${succeeded?.value} succeeded deliveries ${allLogged ? "PASS" : "FAIL"}`,
  );
  console.log(`  peak memory of a worker process: ${peakMb.toFixed(0)} MB`);
} finally {
  for (const child of processes) {
    child.kill("SIGTERM");
    await child.exited;
  }
  await database.close();
  await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
  await admin.end();
}
