import { accounts, invoiceLineItems, invoices, leadgenCreditLedger, opportunities } from "@basalt/db";
import { and, eq, ne, sql, sum } from "drizzle-orm";
import { addLeadActivity } from "../../crm/activities";
import { normalizeDecimal } from "../../crm/decimal";
import { ConflictError, NotFoundError } from "../../errors";
import { newId } from "../../ids";
import { crmEventPayload } from "../../outbound/outbox/crm-events";
import type { EventEffectContext } from "../context";

export interface InvoicePayment {
  readonly paymentId: string;
  /** Null when the source does not report the amount, as BasaltSURGE receipts may not. */
  readonly amount: string | null;
  readonly currency: string | null;
  readonly network: string | null;
  readonly txHash: string | null;
}

export type InvoiceReference = { readonly invoiceId: string } | { readonly surgePaymentId: string };

export type PayInvoiceResult =
  | { outcome: "paid"; invoiceId: string; creditsAdded: number; opportunitiesWon: number }
  | { outcome: "already_paid"; invoiceId: string; otherPayment: boolean };

/**
 * Marks an invoice paid and applies what follows: LeadGen credits once per invoice, every linked
 * opportunity Closed Won, and a timeline activity. A replay changes nothing. A payment whose amount or
 * currency differs from the invoice fails for an admin to resolve, and so does an unknown or void invoice.
 */
export async function payInvoice(
  ctx: EventEffectContext,
  reference: InvoiceReference,
  payment: InvoicePayment,
): Promise<PayInvoiceResult> {
  const { tx, now } = ctx;
  const condition =
    "invoiceId" in reference
      ? eq(invoices.id, reference.invoiceId)
      : eq(invoices.surgePaymentId, reference.surgePaymentId);
  const [invoice] = await tx.select().from(invoices).where(condition).for("update");
  if (!invoice) {
    throw new NotFoundError(
      "invoiceId" in reference
        ? `invoice ${reference.invoiceId} not found`
        : `no invoice has Surge payment id ${reference.surgePaymentId}`,
    );
  }

  if (invoice.status === "PAID") {
    const otherPayment = invoice.paymentId !== null && invoice.paymentId !== payment.paymentId;
    if (otherPayment && invoice.doublePaidAt === null) {
      await tx.update(invoices).set({ doublePaidAt: now, updatedAt: now }).where(eq(invoices.id, invoice.id));
      if (invoice.leadId) {
        await addLeadActivity(tx, {
          leadId: invoice.leadId,
          kind: "invoice.double_paid",
          summary: `Invoice ${invoice.number} received a second payment ${payment.paymentId} after ${invoice.paymentId}`,
          occurredAt: ctx.occurredAt,
          eventId: ctx.event.id,
        });
      }
    }
    return { outcome: "already_paid", invoiceId: invoice.id, otherPayment };
  }
  if (invoice.status === "VOID") {
    throw new ConflictError(`invoice ${invoice.id} is VOID, so payment ${payment.paymentId} cannot pay it`);
  }
  assertAmountMatches(invoice, payment);

  await tx
    .update(invoices)
    .set({
      status: "PAID",
      paidAt: ctx.occurredAt,
      paymentId: payment.paymentId,
      surgePaymentId: invoice.surgePaymentId ?? payment.paymentId,
      paidAmount: payment.amount ?? invoice.amount,
      paidCurrency: payment.currency ?? invoice.currency,
      paymentNetwork: payment.network,
      paymentTxHash: payment.txHash,
      updatedAt: now,
    })
    .where(eq(invoices.id, invoice.id));

  const creditsAdded = invoice.accountId ? await grantLeadgenCredits(ctx, invoice.id, invoice.accountId) : 0;
  const won = await tx
    .update(opportunities)
    .set({ stage: "Closed Won", closedAt: now, updatedAt: now })
    .where(and(eq(opportunities.invoiceId, invoice.id), ne(opportunities.stage, "Closed Won")))
    .returning({
      id: opportunities.id,
      name: opportunities.name,
      leadId: opportunities.leadId,
      accountId: opportunities.accountId,
    });

  const amount = payment.amount ?? invoice.amount;
  const currency = payment.currency ?? invoice.currency;
  if (invoice.leadId) {
    await addLeadActivity(tx, {
      leadId: invoice.leadId,
      kind: "invoice.paid",
      summary: `Invoice ${invoice.number} paid: ${amount} ${currency} (payment ${payment.paymentId})`,
      occurredAt: ctx.occurredAt,
      eventId: ctx.event.id,
      data: { invoiceId: invoice.id, paymentId: payment.paymentId, creditsAdded, opportunitiesWon: won.length },
    });
  }

  await ctx.outbox.recordEvent(
    "invoice.paid",
    crmEventPayload("invoice.paid", ctx.occurredAt, {
      invoice_id: invoice.id,
      invoice_number: invoice.number,
      amount,
      currency,
      payment_id: payment.paymentId,
      network: payment.network,
      tx_hash: payment.txHash,
      lead_id: invoice.leadId,
      account_id: invoice.accountId,
      leadgen_credits_added: creditsAdded,
    }),
  );
  for (const opportunity of won) {
    await ctx.outbox.recordEvent(
      "opportunity.closed_won",
      crmEventPayload("opportunity.closed_won", ctx.occurredAt, {
        opportunity_id: opportunity.id,
        name: opportunity.name,
        invoice_id: invoice.id,
        lead_id: opportunity.leadId,
        account_id: opportunity.accountId,
      }),
    );
  }
  // BasaltSURGE was paid, so the open Mercury receivable must not be paid a second time.
  if (invoice.mercuryInvoiceId) {
    await ctx.outbox.queueIntegration("mercury_invoice", {
      invoiceId: invoice.id,
      mercuryInvoiceId: invoice.mercuryInvoiceId,
    });
  }
  return { outcome: "paid", invoiceId: invoice.id, creditsAdded, opportunitiesWon: won.length };
}

function assertAmountMatches(invoice: { id: string; amount: string; currency: string }, payment: InvoicePayment): void {
  const amountMatches =
    payment.amount === null || normalizeDecimal(payment.amount) === normalizeDecimal(invoice.amount);
  const currencyMatches =
    payment.currency === null || payment.currency.toUpperCase() === invoice.currency.toUpperCase();
  if (!amountMatches || !currencyMatches) {
    throw new ConflictError(
      `payment ${payment.paymentId} of ${payment.amount ?? "(no amount)"} ${payment.currency ?? "(no currency)"} does not match invoice ${invoice.id} amount ${normalizeDecimal(invoice.amount)} ${invoice.currency}`,
    );
  }
}

/** Adds the invoice's LeadGen credit quantity to its account, guarded by a ledger row unique per invoice. */
async function grantLeadgenCredits(ctx: EventEffectContext, invoiceId: string, accountId: string): Promise<number> {
  const { tx } = ctx;
  const [total] = await tx
    .select({ quantity: sum(invoiceLineItems.quantity).mapWith(Number) })
    .from(invoiceLineItems)
    .where(and(eq(invoiceLineItems.invoiceId, invoiceId), eq(invoiceLineItems.kind, "leadgen_credits")));
  const quantity = total?.quantity ?? 0;
  if (quantity <= 0) {
    return 0;
  }
  const granted = await tx
    .insert(leadgenCreditLedger)
    .values({ id: newId("lcl"), accountId, invoiceId, quantity, idempotencyKey: `invoice:${invoiceId}` })
    .onConflictDoNothing()
    .returning({ id: leadgenCreditLedger.id });
  if (granted.length === 0) {
    return 0;
  }
  await tx
    .update(accounts)
    .set({ leadgenCredits: sql`${accounts.leadgenCredits} + ${quantity}` })
    .where(eq(accounts.id, accountId));
  return quantity;
}
