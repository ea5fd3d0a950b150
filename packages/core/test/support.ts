import {
  accounts,
  createEventInserter,
  type Database,
  type EventSource,
  invoiceLineItems,
  invoices,
  leads,
  opportunities,
  outreachEmails,
  type WebhookEvent,
  webhookEvents,
} from "@basalt/db";
import { createTestDatabase, type TestDatabase } from "@basalt/db/testing";
import { eq } from "drizzle-orm";
import {
  EventWorker,
  EventWriter,
  ManualClock,
  newId,
  type ReceiveContext,
  type ReceiveOutcome,
  receiveWebhook,
  SecretCipher,
  SecretStore,
  signHex,
  signStandardWebhook,
  silentLogger,
  type WorkerSettings,
} from "../src";

/** Secrets every test context is configured with, one per source, as environment secrets. */
export const testSecrets = {
  surge: "surge-test-secret-0123456789abcdef",
  basaltecho: "echo-test-secret-0123456789abcdef",
  resend: `whsec_${new Uint8Array(32).fill(7).toBase64()}`,
  openai: `whsec_${new Uint8Array(32).fill(9).toBase64()}`,
} as const;

export interface TestContext extends ReceiveContext {
  readonly database: TestDatabase;
  readonly clock: ManualClock;
  readonly worker: EventWorker;
  /** Pending event ids reported by the receive step. */
  readonly pendingEvents: string[];
}

export interface TestContextOptions {
  /** Environment secrets; every source has one unless this says otherwise. */
  readonly environmentSecrets?: Partial<Record<EventSource, string>>;
  readonly workerSettings?: Partial<WorkerSettings>;
  readonly withCipher?: boolean;
}

/** Builds a core context on a fresh test database with a manual clock and a worker that is not started. */
export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const clock = new ManualClock(new Date("2026-03-01T12:00:00Z"));
  const cipher = options.withCipher === false ? null : await SecretCipher.fromBase64(SecretCipher.generateKey());
  const secrets = new SecretStore({
    db: database.db,
    cipher,
    clock,
    logger: silentLogger,
    environmentSecrets: options.environmentSecrets ?? testSecrets,
  });
  const pendingEvents: string[] = [];
  const base = {
    database,
    db: database.db,
    clock,
    logger: silentLogger,
    secrets,
    events: new EventWriter(database.db, createEventInserter(database)),
    signatureToleranceSeconds: 300,
    pendingEvents,
    onPendingEvent: (id: string) => {
      pendingEvents.push(id);
    },
  };
  const worker = new EventWorker(base, { retryDelaysMs: [10_000, 60_000], ...options.workerSettings });
  return { ...base, worker };
}

/** Signs a body for a source the way its provider does, at the context clock's time. */
export function signedHeaders(
  source: EventSource,
  body: string | Uint8Array,
  options: { secret?: string; now?: Date; id?: string } = {},
): Headers {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const headers = new Headers({ "content-type": "application/json" });
  const secret = options.secret ?? testSecrets[source];
  if (source === "surge" || source === "basaltecho") {
    headers.set(source === "surge" ? "x-surge-signature" : "x-basaltecho-signature", signHex(secret, bytes));
    return headers;
  }
  const prefix = source === "resend" ? "svix" : "webhook";
  const id = options.id ?? newId("msg");
  const timestamp = Math.floor((options.now ?? new Date("2026-03-01T12:00:00Z")).getTime() / 1000);
  const key = Uint8Array.fromBase64(secret.slice("whsec_".length));
  headers.set(`${prefix}-id`, id);
  headers.set(`${prefix}-timestamp`, String(timestamp));
  headers.set(`${prefix}-signature`, signStandardWebhook(key, id, timestamp, bytes));
  return headers;
}

/** Receives a body signed for its source, as the HTTP route would pass it on. */
export function receiveSigned(
  ctx: TestContext,
  source: EventSource,
  payload: unknown,
  options: { id?: string } = {},
): Promise<ReceiveOutcome> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const headers = signedHeaders(source, body, { now: ctx.clock.now(), id: options.id });
  return receiveWebhook(ctx, { source, body: new TextEncoder().encode(body), headers });
}

/** Receives a signed event, processes everything due, and returns the stored event. */
export async function deliver(
  ctx: TestContext,
  source: EventSource,
  payload: unknown,
  options: { id?: string } = {},
): Promise<WebhookEvent> {
  const outcome = await receiveSigned(ctx, source, payload, options);
  if (outcome.kind !== "stored") {
    throw new Error(`expected the event to be stored, got ${outcome.kind}: ${JSON.stringify(outcome)}`);
  }
  await ctx.worker.drain();
  return readEvent(ctx.db, outcome.eventId);
}

export async function readEvent(db: Database, id: string): Promise<WebhookEvent> {
  const [event] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
  if (!event) {
    throw new Error(`event ${id} not found`);
  }
  return event;
}

export interface CrmFixture {
  readonly accountId: string;
  readonly leadId: string;
  readonly invoiceId: string;
  readonly opportunityId: string;
  readonly surgePaymentId: string;
  readonly outreachEmailId: string;
  readonly emailId: string;
  readonly emailAddress: string;
}

/**
 * Creates an account, a lead in Engage_AI, an open 499.00 USDC invoice with 100 LeadGen credits and a
 * linked opportunity, and an outreach email in status SENT. Every call makes new records.
 */
export async function createCrmFixture(
  db: Database,
  overrides: { amount?: string; currency?: string; credits?: number; leadStatus?: "NEW" | "CONTACTED" } = {},
): Promise<CrmFixture> {
  const fixture = {
    accountId: newId("acct"),
    leadId: newId("lead"),
    invoiceId: newId("inv"),
    opportunityId: newId("opp"),
    surgePaymentId: newId("pay"),
    outreachEmailId: newId("oem"),
    emailId: newId("msg"),
    emailAddress: `${newId("user")}@Example.com`,
  };
  await db.insert(accounts).values({ id: fixture.accountId, name: "Acme Corp" });
  await db.insert(leads).values({
    id: fixture.leadId,
    accountId: fixture.accountId,
    firstName: "John",
    lastName: "Doe",
    email: fixture.emailAddress,
    pipelineStage: "Engage_AI",
    status: overrides.leadStatus ?? "NEW",
  });
  await db.insert(invoices).values({
    id: fixture.invoiceId,
    accountId: fixture.accountId,
    leadId: fixture.leadId,
    number: "INV-1",
    amount: overrides.amount ?? "499.00",
    currency: overrides.currency ?? "USDC",
    surgePaymentId: fixture.surgePaymentId,
  });
  await db.insert(invoiceLineItems).values({
    id: newId("li"),
    invoiceId: fixture.invoiceId,
    kind: "leadgen_credits",
    description: "LeadGen credits",
    quantity: overrides.credits ?? 100,
    unitPrice: "1.00",
  });
  await db.insert(opportunities).values({
    id: fixture.opportunityId,
    accountId: fixture.accountId,
    leadId: fixture.leadId,
    invoiceId: fixture.invoiceId,
    name: "Acme PRO",
    stage: "Negotiation",
  });
  await db.insert(outreachEmails).values({
    id: fixture.outreachEmailId,
    leadId: fixture.leadId,
    providerEmailId: fixture.emailId,
    toAddress: fixture.emailAddress,
    subject: "Re: Partnership Opportunity",
    status: "SENT",
  });
  return fixture;
}
