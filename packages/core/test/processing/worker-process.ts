/**
 * Runs one EventWorker with its own connection pool in a separate OS process, for the exactly-once test.
 *
 * Usage: bun worker-process.ts DATABASE_URL CLOCK_TIME
 *
 * CLOCK_TIME is the ISO time of the test's manual clock, so this process computes leases and due times
 * as the test's workers do. The process prints `started` after its first outcome, drains until no
 * event is due, prints its outcome counts as one JSON line, and exits.
 */
import { openDatabase } from "@basalt/db";
import { EventWorker, ManualClock, type ProcessOutcome, silentLogger } from "../../src";

const [url, clockTime] = Bun.argv.slice(2);
if (!url || !clockTime) {
  console.error("usage: bun worker-process.ts DATABASE_URL CLOCK_TIME");
  process.exit(2);
}

const handle = await openDatabase({ url, maxConnections: 4 });
const outcomes: Partial<Record<ProcessOutcome, number>> = {};
const worker = new EventWorker(
  { db: handle.db, clock: new ManualClock(new Date(clockTime)), logger: silentLogger },
  { batchSize: 8, concurrency: 2 },
  {
    onOutcome: (outcome) => {
      const total = Object.values(outcomes).reduce((sum, count) => sum + count, 0);
      if (total === 0) {
        console.log("started");
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    },
  },
);

try {
  await worker.drain();
  console.log(JSON.stringify(outcomes));
} finally {
  await handle.close();
}
