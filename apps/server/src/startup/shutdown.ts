import { type DeliveryWorker, describeError, type EventWorker } from "@basalt/core";
import type { DatabaseHandle } from "@basalt/db";
import type { Logger } from "pino";
import type { DataFolder } from "../data-folder";
import { flushLogsSync } from "../logger";

/**
 * Stops cleanly on SIGTERM and SIGINT: no new connections, in-flight requests, events and deliveries
 * finish, the database closes. After `timeoutMs` the process exits 1 instead.
 */
export function installShutdown(input: {
  logger: Logger;
  server: ReturnType<typeof Bun.serve> | null;
  worker: EventWorker | null;
  deliveryWorker: DeliveryWorker | null;
  database: DatabaseHandle;
  folder: DataFolder | null;
  timeoutMs: number;
}): void {
  const { logger } = input;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests, events and deliveries");
    const deadline = setTimeout(() => {
      logger.error({ timeout_ms: input.timeoutMs }, "shutdown timed out; exiting");
      flushLogsSync(logger);
      process.exit(1);
    }, input.timeoutMs);
    try {
      await input.server?.stop();
      await Promise.all([input.worker?.stop(), input.deliveryWorker?.stop()]);
      await input.database.close();
      input.folder?.removeServerFile();
      logger.info({}, "stopped");
      flushLogsSync(logger);
      clearTimeout(deadline);
      process.exit(0);
    } catch (error) {
      logger.error({ error: describeError(error) }, "shutdown failed");
      flushLogsSync(logger);
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
