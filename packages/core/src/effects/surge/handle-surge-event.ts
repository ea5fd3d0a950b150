import { invoices } from "@basalt/db";
import { eq } from "drizzle-orm";
import { addLeadActivity } from "../../crm/activities";
import {
  paidReceiptStatuses,
  surgePaymentEvent,
  surgeReceiptEvent,
  surgeReceiptType,
} from "../../inbound/payloads/surge";
import { type EffectResult, type EventEffectContext, processed } from "../context";
import { payInvoice } from "./pay-invoice";

/** Applies a stored Surge event: a payment, or a BasaltSURGE receipt status. */
export async function handleSurgeEvent(ctx: EventEffectContext, payload: unknown): Promise<EffectResult> {
  if (ctx.event.eventType === surgeReceiptType) {
    return handleReceipt(ctx, payload);
  }
  const { data } = surgePaymentEvent.parse(payload);
  await payInvoice(
    ctx,
    { invoiceId: data.external_id },
    {
      paymentId: data.id,
      amount: data.amount,
      currency: data.currency,
      network: data.network ?? null,
      txHash: data.tx_hash ?? null,
    },
  );
  return processed;
}

async function handleReceipt(ctx: EventEffectContext, payload: unknown): Promise<EffectResult> {
  const receipt = surgeReceiptEvent.parse(payload);
  if (paidReceiptStatuses.has(receipt.status)) {
    await payInvoice(
      ctx,
      { surgePaymentId: receipt.receiptId },
      {
        paymentId: receipt.receiptId,
        amount: receipt.amount ?? null,
        currency: receipt.currency ?? null,
        network: receipt.network ?? null,
        txHash: receipt.transactionHash ?? null,
      },
    );
    return processed;
  }

  const [invoice] = await ctx.tx
    .select({ id: invoices.id, number: invoices.number, leadId: invoices.leadId })
    .from(invoices)
    .where(eq(invoices.surgePaymentId, receipt.receiptId));
  if (!invoice) {
    return { status: "ignored", reason: `no invoice has Surge payment id ${receipt.receiptId}` };
  }
  if (invoice.leadId) {
    await addLeadActivity(ctx.tx, {
      leadId: invoice.leadId,
      kind: "invoice.receipt_status",
      summary: `Invoice ${invoice.number} receipt ${receipt.receiptId} is ${receipt.status}`,
      occurredAt: ctx.occurredAt,
      eventId: ctx.event.id,
      data: { invoiceId: invoice.id, status: receipt.status },
    });
  }
  return processed;
}
