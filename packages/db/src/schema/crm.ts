import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, numeric, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, timestampTz } from "./columns";

/** Pipeline stages in order: a lead only ever moves to a later one. */
export const pipelineStages = [
  "Identify",
  "Engage_AI",
  "Engage_Human",
  "Offering",
  "Finalizing",
  "Closed",
  "Converted",
] as const;
export type PipelineStage = (typeof pipelineStages)[number];

export const leadStatuses = ["NEW", "CONTACTED", "QUALIFIED", "LOST", "CONVERTED"] as const;
export const callStatuses = ["INITIATED", "CONNECTED", "ENDED"] as const;
export type CallStatus = (typeof callStatuses)[number];

export const opportunityStages = [
  "Prospecting",
  "Qualification",
  "Proposal",
  "Negotiation",
  "Closed Won",
  "Closed Lost",
] as const;

export const invoiceStatuses = ["DRAFT", "OPEN", "PAID", "VOID"] as const;
export const lineItemKinds = ["service", "leadgen_credits"] as const;

/** Outreach email statuses. Resend events move an email forward only; BOUNCED and COMPLAINED are final. */
export const emailStatuses = ["SENT", "DELIVERED", "OPENED", "CLICKED", "BOUNCED", "COMPLAINED"] as const;
export type EmailStatus = (typeof emailStatuses)[number];

export const accounts = pgTable("accounts", {
  id: text().primaryKey(),
  name: text().notNull(),
  leadgenCredits: integer().notNull().default(0),
  createdAt: createdAt(),
});

export const leads = pgTable(
  "leads",
  {
    id: text().primaryKey(),
    accountId: text().references(() => accounts.id),
    firstName: text(),
    lastName: text(),
    email: text(),
    phone: text(),
    company: text(),
    jobTitle: text(),
    pipelineStage: text({ enum: pipelineStages }).notNull().default("Identify"),
    status: text({ enum: leadStatuses }).notNull().default("NEW"),
    callStatus: text({ enum: callStatuses }),
    /** Provider time of the call event that set `callStatus`, so an older event never overwrites it. */
    callStatusAt: timestampTz(),
    meetingBookedAt: timestampTz(),
    optedOut: boolean().notNull().default(false),
    optedOutAt: timestampTz(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (table) => [index("leads_email_idx").on(sql`lower(${table.email})`)],
);

export const opportunities = pgTable(
  "opportunities",
  {
    id: text().primaryKey(),
    accountId: text().references(() => accounts.id),
    leadId: text().references(() => leads.id),
    invoiceId: text().references(() => invoices.id),
    name: text().notNull(),
    stage: text({ enum: opportunityStages }).notNull().default("Prospecting"),
    amount: numeric({ precision: 20, scale: 6 }),
    currency: text(),
    closedAt: timestampTz(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (table) => [index("opportunities_invoice_idx").on(table.invoiceId)],
);

export const invoices = pgTable("invoices", {
  id: text().primaryKey(),
  accountId: text().references(() => accounts.id),
  leadId: text().references(() => leads.id),
  number: text().notNull(),
  status: text({ enum: invoiceStatuses }).notNull().default("OPEN"),
  /** Decimal string, compared digit for digit with what a payment reports. */
  amount: numeric({ precision: 20, scale: 6 }).notNull(),
  currency: text().notNull(),
  /** The Surge payment (receipt) created for this invoice; BasaltSURGE receipts refer to it. */
  surgePaymentId: text().unique(),
  paidAt: timestampTz(),
  paymentId: text(),
  paidAmount: numeric({ precision: 20, scale: 6 }),
  paidCurrency: text(),
  paymentNetwork: text(),
  paymentTxHash: text(),
  /** The open Mercury receivable for this invoice, if one was issued. */
  mercuryInvoiceId: text(),
  doublePaidAt: timestampTz(),
  createdAt: createdAt(),
  updatedAt: createdAt(),
});

export const invoiceLineItems = pgTable(
  "invoice_line_items",
  {
    id: text().primaryKey(),
    invoiceId: text()
      .notNull()
      .references(() => invoices.id),
    kind: text({ enum: lineItemKinds }).notNull(),
    description: text().notNull(),
    quantity: integer().notNull(),
    unitPrice: numeric({ precision: 20, scale: 6 }).notNull(),
  },
  (table) => [index("invoice_line_items_invoice_idx").on(table.invoiceId)],
);

/** Every change of an account's LeadGen credit balance. The unique key makes each grant happen once. */
export const leadgenCreditLedger = pgTable("leadgen_credit_ledger", {
  id: text().primaryKey(),
  accountId: text()
    .notNull()
    .references(() => accounts.id),
  invoiceId: text().references(() => invoices.id),
  quantity: integer().notNull(),
  idempotencyKey: text().notNull().unique(),
  createdAt: createdAt(),
});

export const meetings = pgTable(
  "meetings",
  {
    id: text().primaryKey(),
    leadId: text()
      .notNull()
      .references(() => leads.id),
    startsAt: timestampTz().notNull(),
    timezone: text().notNull(),
    title: text().notNull(),
    durationMinutes: integer().notNull(),
    /** The booker: `basaltecho` for the voice agent, `api` for internal callers. */
    bookedBy: text().notNull(),
    /** The webhook event or idempotency key that created the meeting; a replay finds it. */
    idempotencyKey: text().unique(),
    createdAt: createdAt(),
  },
  (table) => [index("meetings_lead_idx").on(table.leadId)],
);

export const calls = pgTable(
  "calls",
  {
    id: text().primaryKey(),
    leadId: text()
      .notNull()
      .references(() => leads.id),
    /** The voice provider's call id, when its events carry one. */
    providerCallId: text().unique(),
    status: text({ enum: callStatuses }).notNull(),
    connectedAt: timestampTz(),
    endedAt: timestampTz(),
    durationSec: integer(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (table) => [index("calls_lead_idx").on(table.leadId)],
);

export const outreachEmails = pgTable(
  "outreach_emails",
  {
    id: text().primaryKey(),
    leadId: text().references(() => leads.id),
    /** Resend's email id, which its webhooks carry as `data.email_id`. */
    providerEmailId: text().unique(),
    toAddress: text().notNull(),
    subject: text().notNull(),
    status: text({ enum: emailStatuses }).notNull().default("SENT"),
    sentAt: timestampTz(),
    deliveredAt: timestampTz(),
    openedAt: timestampTz(),
    clickedAt: timestampTz(),
    bouncedAt: timestampTz(),
    complainedAt: timestampTz(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (table) => [index("outreach_emails_lead_idx").on(table.leadId)],
);

/** Addresses that must never be sent to again, stored in lower case. */
export const emailSuppressions = pgTable("email_suppressions", {
  email: text().primaryKey(),
  reason: text({ enum: ["bounced", "complained"] }).notNull(),
  eventId: text(),
  createdAt: createdAt(),
});

/** A lead's timeline, ordered by the provider's own time of each event. */
export const leadActivities = pgTable(
  "lead_activities",
  {
    id: text().primaryKey(),
    leadId: text()
      .notNull()
      .references(() => leads.id),
    kind: text().notNull(),
    summary: text().notNull(),
    occurredAt: timestampTz().notNull(),
    /** The webhook event behind this activity, if any. */
    eventId: text(),
    data: jsonb().$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (table) => [index("lead_activities_lead_occurred_idx").on(table.leadId, table.occurredAt)],
);

export const followUpIntents = pgTable(
  "follow_up_intents",
  {
    id: text().primaryKey(),
    leadId: text()
      .notNull()
      .references(() => leads.id),
    kind: text().notNull(),
    dueAt: timestampTz().notNull(),
    callId: text().references(() => calls.id),
    status: text({ enum: ["OPEN", "DONE", "CANCELLED"] })
      .notNull()
      .default("OPEN"),
    idempotencyKey: text().notNull().unique(),
    createdAt: createdAt(),
  },
  (table) => [index("follow_up_intents_lead_idx").on(table.leadId)],
);

export const aiAnalyticsEvents = pgTable(
  "ai_analytics_events",
  {
    id: text().primaryKey(),
    /** The webhook event this row was made from; unique, so an event is counted once. */
    eventId: text().notNull().unique(),
    eventType: text().notNull(),
    status: text().notNull(),
    responseId: text(),
    sessionId: text(),
    model: text(),
    durationMs: integer(),
    occurredAt: timestampTz().notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("ai_analytics_events_occurred_idx").on(table.occurredAt)],
);

/** Routing rules for incoming SIP calls. Routes are tried by ascending position, and the first match wins. */
export const callRoutes = pgTable("call_routes", {
  id: text().primaryKey(),
  name: text().notNull(),
  position: integer().notNull(),
  /** Pattern for the SIP `To` address, `*` as a wildcard; null matches any. */
  matchTo: text(),
  /** Pattern for the SIP `From` address, `*` as a wildcard; null matches any. */
  matchFrom: text(),
  action: text({ enum: ["accept", "reject"] }).notNull(),
  /** Session settings sent with an accept: instructions, model, voice. */
  sessionSettings: jsonb().$type<Record<string, unknown>>(),
  /** SIP status sent with a reject, such as 486 (busy) or 603 (decline). */
  rejectStatusCode: integer(),
  enabled: boolean().notNull().default(true),
  createdAt: createdAt(),
});

export const callAnswerStatuses = ["pending", "answered", "failed", "skipped"] as const;

export const incomingCalls = pgTable(
  "incoming_calls",
  {
    id: text().primaryKey(),
    eventId: text().notNull().unique(),
    callId: text().notNull(),
    fromAddress: text(),
    toAddress: text(),
    sipHeaders: jsonb().$type<{ name: string; value: string }[]>().notNull(),
    routeId: text().references(() => callRoutes.id),
    action: text({ enum: ["accept", "reject"] }).notNull(),
    rejectStatusCode: integer(),
    reason: text().notNull(),
    /** Whether the accept or reject has been sent to the provider yet. */
    answerStatus: text({ enum: callAnswerStatuses }).notNull().default("pending"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("incoming_calls_call_id_unique").on(table.callId)],
);
