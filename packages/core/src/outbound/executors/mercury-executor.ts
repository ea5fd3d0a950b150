import { invoices } from "@basalt/db";
import { eq, sql } from "drizzle-orm";
import { addLeadActivity } from "../../crm/activities";
import type { OutboundResult } from "../http/types";
import { parseRetryAfter } from "../settings";
import { attemptRecord, type DeliveryExecutor } from "./executor";
import { parseJsonBody, sendIntegrationRequest } from "./integration-request";

/**
 * Largest invoice body read back after a refused cancel. The attempt log keeps only 4 KiB, but an
 * invoice with many line items is longer, and its `status` must still be parsed.
 */
const invoiceMaxBytes = 1_048_576;

/** The Mercury receivable of an invoice that was paid through BasaltSURGE. */
export interface MercuryJob {
  readonly invoiceId: string;
  readonly mercuryInvoiceId: string;
}

/**
 * Cancels the open Mercury receivable of an invoice that was paid through BasaltSURGE, so the customer
 * cannot pay twice; the Mercury API cannot mark an invoice paid. Mercury cancels unpaid invoices only, so
 * when the cancel is refused the invoice is read back: `Paid` means the customer paid both ways, and
 * the invoice is flagged double-paid for an admin.
 */
export const mercuryExecutor: DeliveryExecutor = {
  async send(ctx, job) {
    const { apiUrl, apiToken } = ctx.integrations.mercury;
    const { mercuryInvoiceId } = JSON.parse(job.message.body) as MercuryJob;
    if (!apiToken) {
      return { kind: "skipped", reason: "MERCURY_API_TOKEN is not set, so Mercury receivables are not cancelled" };
    }
    const headers = { authorization: `Bearer ${apiToken}`, accept: "application/json" };
    const invoiceUrl = `${apiUrl}/ar/invoices/${encodeURIComponent(mercuryInvoiceId)}`;

    const startedAt = ctx.clock.now();
    const cancel = await sendIntegrationRequest(
      `${invoiceUrl}/cancel`,
      { method: "POST", headers },
      ctx.http.timeoutMs,
    );
    const attempt = attemptRecord(startedAt, cancel);
    if (cancel.kind !== "response") {
      return { kind: "failed", attempt, error: `Mercury request failed: ${cancel.message}` };
    }
    if (cancel.status >= 200 && cancel.status < 300) {
      return { kind: "succeeded", attempt, reason: `Mercury invoice ${mercuryInvoiceId} cancelled` };
    }
    if (cancel.status < 400 || cancel.status >= 500 || cancel.status === 429) {
      return {
        kind: "failed",
        attempt,
        error: `Mercury responded ${cancel.status} to the cancel`,
        retryAfterMs: parseRetryAfter(cancel.headers.get("retry-after"), startedAt, ctx.deliverySettings),
      };
    }

    const read = await sendIntegrationRequest(
      invoiceUrl,
      { method: "GET", headers, maxBodyBytes: invoiceMaxBytes },
      ctx.http.timeoutMs,
    );
    const status =
      read.kind === "response" && read.status >= 200 && read.status < 300
        ? (parseJsonBody(read.bodyPrefix) as { status?: unknown } | null)?.status
        : undefined;
    if (status === "Paid") {
      return {
        kind: "succeeded",
        attempt,
        reason: `Mercury invoice ${mercuryInvoiceId} was already paid; the invoice is flagged double-paid`,
        data: { doublePaid: true },
      };
    }
    if (status === "Cancelled") {
      return { kind: "succeeded", attempt, reason: `Mercury invoice ${mercuryInvoiceId} was already cancelled` };
    }
    return {
      kind: "failed",
      attempt,
      error: `Mercury responded ${cancel.status} to the cancel, and ${describeInvoiceRead(read, status)}`,
    };
  },

  async onSucceeded(tx, ctx, job, data) {
    if (data.doublePaid !== true) {
      return;
    }
    const { invoiceId, mercuryInvoiceId } = JSON.parse(job.message.body) as MercuryJob;
    const now = ctx.clock.now();
    // An invoice flagged before, by a second BasaltSURGE payment, keeps the time it was first flagged.
    const [invoice] = await tx
      .update(invoices)
      .set({ doublePaidAt: sql`coalesce(${invoices.doublePaidAt}, ${now.toISOString()}::timestamptz)`, updatedAt: now })
      .where(eq(invoices.id, invoiceId))
      .returning({ leadId: invoices.leadId, number: invoices.number });
    if (invoice?.leadId) {
      await addLeadActivity(tx, {
        leadId: invoice.leadId,
        kind: "invoice.double_paid",
        summary: `Invoice ${invoice.number} was paid through BasaltSURGE and Mercury invoice ${mercuryInvoiceId}`,
        occurredAt: now,
        data: { invoiceId, mercuryInvoiceId },
      });
    }
  },
};

/** Describes the invoice read that followed a refused cancel, for the delivery's error. */
function describeInvoiceRead(read: OutboundResult, status: unknown): string {
  if (read.kind !== "response") {
    return `reading the invoice failed: ${read.message}`;
  }
  if (read.status < 200 || read.status >= 300) {
    return `reading the invoice returned ${read.status}`;
  }
  return `the invoice status is ${typeof status === "string" ? status : "missing from the response"}`;
}
