import { type Database, deliveries, webhookEvents } from "@basalt/db";
import { count, eq, min } from "drizzle-orm";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  readonly registry: Registry;
  /** Webhook requests by source and outcome: the stored status or the error code. */
  readonly webhookRequests: Counter<"source" | "outcome">;
  readonly webhookAckSeconds: Histogram<"source">;
  readonly eventsProcessed: Counter<"outcome">;
  readonly deliveriesAttempted: Counter<"outcome" | "target">;
  readonly formSubmissions: Counter<"outcome">;
}

/**
 * Creates the Prometheus metrics. Queue depth and processing lag are read from the database at each
 * scrape through the partial index of pending events, so they are right across all processes.
 */
export function createMetrics(db: Database): Metrics {
  const registry = new Registry();
  const webhookRequests = new Counter({
    name: "basalt_webhook_requests_total",
    help: "Webhook requests by source and outcome: the stored status (pending, ignored, rejected), duplicate, or an error code.",
    labelNames: ["source", "outcome"] as const,
    registers: [registry],
  });
  const webhookAckSeconds = new Histogram({
    name: "basalt_webhook_ack_seconds",
    help: "Time from reading a webhook request to sending the response.",
    labelNames: ["source"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const eventsProcessed = new Counter({
    name: "basalt_events_processed_total",
    help: "Processing attempts by outcome: processed, ignored, retry_scheduled, failed, lease_lost.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "basalt_events_pending",
    help: "Events waiting to be processed, including those waiting for a retry.",
    registers: [registry],
    async collect() {
      const [row] = await db.select({ value: count() }).from(webhookEvents).where(eq(webhookEvents.status, "pending"));
      this.set(row?.value ?? 0);
    },
  });
  new Gauge({
    name: "basalt_events_processing_lag_seconds",
    help: "How long the most overdue pending event has been due; 0 when none is due.",
    registers: [registry],
    async collect() {
      const [row] = await db
        .select({ oldest: min(webhookEvents.nextAttemptAt) })
        .from(webhookEvents)
        .where(eq(webhookEvents.status, "pending"));
      const oldest = row?.oldest ? new Date(row.oldest).getTime() : Date.now();
      this.set(Math.max(0, (Date.now() - oldest) / 1000));
    },
  });
  const deliveriesAttempted = new Counter({
    name: "basalt_deliveries_total",
    help: "Outbound delivery attempts by target and outcome: succeeded, retry_scheduled, failed, skipped, cancelled, lease_lost.",
    labelNames: ["outcome", "target"] as const,
    registers: [registry],
  });
  const formSubmissions = new Counter({
    name: "basalt_form_submissions_total",
    help: "Form submissions by outcome: accepted, invalid, rate_limited, not_found, spam.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "basalt_deliveries_pending",
    help: "Outbound deliveries waiting to be sent, including those waiting for a retry.",
    registers: [registry],
    async collect() {
      const [row] = await db.select({ value: count() }).from(deliveries).where(eq(deliveries.status, "pending"));
      this.set(row?.value ?? 0);
    },
  });
  new Gauge({
    name: "basalt_process_resident_memory_bytes",
    help: "Resident memory of this process.",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  return { registry, webhookRequests, webhookAckSeconds, eventsProcessed, deliveriesAttempted, formSubmissions };
}
