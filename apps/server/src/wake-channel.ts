import type { Logger } from "pino";
import type postgres from "postgres";

/** Postgres channel on which HTTP-only processes announce new events to worker-only processes. */
const channel = "basalt_webhook_events";
/** Notifications are coalesced: at most one per this many milliseconds. */
const coalesceMs = 20;

/**
 * Returns a function that announces a new pending event with NOTIFY, coalescing bursts into one
 * notification. Used when HTTP and workers run in separate processes; a lost notification costs at
 * most one poll interval, because workers also poll.
 */
export function createNotifier(client: postgres.Sql, logger: Logger): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) {
      return;
    }
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      client`select pg_notify(${channel}, '')`.catch((error: unknown) => {
        logger.warn({ error: (error as Error).message }, "event notification failed; workers will poll");
      });
    }, coalesceMs);
  };
}

/** Calls `onEvent` whenever another process announces a new pending event. */
export async function listenForEvents(client: postgres.Sql, onEvent: () => void): Promise<void> {
  await client.listen(channel, onEvent);
}
