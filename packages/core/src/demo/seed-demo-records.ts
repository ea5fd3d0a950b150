import {
  accounts,
  callRoutes,
  type Database,
  invoiceLineItems,
  invoices,
  leads,
  opportunities,
  outreachEmails,
} from "@basalt/db";
import { newId } from "../ids";

export interface DemoRecords {
  readonly accountId: string;
  readonly leadId: string;
  readonly opportunityId: string;
  readonly invoiceId: string;
  readonly invoiceAmount: string;
  readonly invoiceCurrency: string;
  /** The Surge payment created for the invoice, which BasaltSURGE receipts refer to. */
  readonly surgePaymentId: string;
  readonly leadgenCredits: number;
  readonly outreachEmailId: string;
  /** Resend's id of the outreach email, which Resend webhooks carry as `data.email_id`. */
  readonly emailId: string;
  readonly callRouteId: string;
}

/**
 * Creates a small, self-contained set of CRM records for trying the webhooks. They are an account, a
 * lead, an open 499.00 USDC invoice that includes 100 LeadGen credits, an opportunity linked to it, an
 * outreach email sent to the lead, and a call route that accepts calls. Every run creates new records.
 */
export async function seedDemoRecords(db: Database): Promise<DemoRecords> {
  const records = {
    accountId: newId("acct"),
    leadId: newId("lead"),
    opportunityId: newId("opp"),
    invoiceId: newId("inv"),
    invoiceAmount: "499.00",
    invoiceCurrency: "USDC",
    surgePaymentId: newId("pay"),
    leadgenCredits: 100,
    outreachEmailId: newId("oem"),
    emailId: newId("msg"),
    callRouteId: newId("crt"),
  };
  const suffix = records.leadId.slice(-6);

  await db.transaction(async (tx) => {
    await tx.insert(accounts).values({ id: records.accountId, name: "Acme Corp" });
    await tx.insert(leads).values({
      id: records.leadId,
      accountId: records.accountId,
      firstName: "John",
      lastName: "Doe",
      email: `john.doe+${suffix}@example.com`,
      company: "Acme Corp",
      pipelineStage: "Engage_AI",
    });
    await tx.insert(invoices).values({
      id: records.invoiceId,
      accountId: records.accountId,
      leadId: records.leadId,
      number: `INV-${suffix.toUpperCase()}`,
      amount: records.invoiceAmount,
      currency: records.invoiceCurrency,
      surgePaymentId: records.surgePaymentId,
    });
    await tx.insert(invoiceLineItems).values([
      {
        id: newId("li"),
        invoiceId: records.invoiceId,
        kind: "service",
        description: "PRO plan, first month",
        quantity: 1,
        unitPrice: "399.00",
      },
      {
        id: newId("li"),
        invoiceId: records.invoiceId,
        kind: "leadgen_credits",
        description: "LeadGen credits",
        quantity: records.leadgenCredits,
        unitPrice: "1.00",
      },
    ]);
    await tx.insert(opportunities).values({
      id: records.opportunityId,
      accountId: records.accountId,
      leadId: records.leadId,
      invoiceId: records.invoiceId,
      name: "Acme Corp PRO plan",
      stage: "Negotiation",
      amount: records.invoiceAmount,
      currency: records.invoiceCurrency,
    });
    await tx.insert(outreachEmails).values({
      id: records.outreachEmailId,
      leadId: records.leadId,
      providerEmailId: records.emailId,
      toAddress: `john.doe+${suffix}@example.com`,
      subject: "Re: Partnership Opportunity",
      status: "SENT",
      sentAt: new Date(),
    });
    await tx.insert(callRoutes).values({
      id: records.callRouteId,
      name: `Demo sales line ${suffix}`,
      position: 100,
      matchTo: null,
      matchFrom: null,
      action: "accept",
      sessionSettings: { instructions: "You are the Acme Corp sales assistant.", voice: "alloy" },
    });
  });
  return records;
}
