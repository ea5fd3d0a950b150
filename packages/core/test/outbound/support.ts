import {
  createSuccessWriter,
  type Delivery,
  type DeliveryStatus,
  deliveries,
  deliveryAttempts,
  type OutboundEventType,
  webhookEndpoints,
} from "@basalt/db";
import { asc, eq } from "drizzle-orm";
import {
  DeliveryWorker,
  defaultDeliverySettings,
  type IntegrationSettings,
  type ManualClock,
  type OutboundContext,
  Outbox,
  SecretCipher,
} from "../../src";
import { createTestContext, type TestContext, type TestContextOptions } from "../support";
import { receiverCaPem } from "./https-receiver";

export interface OutboundTestContext extends OutboundContext {
  readonly base: TestContext;
  readonly clock: ManualClock;
  readonly deliveryWorker: DeliveryWorker;
}

/** Integrations without credentials, unless a test names its local API server. */
export const noIntegrations: IntegrationSettings = {
  resend: { apiUrl: "http://127.0.0.1:9", apiKey: undefined, from: undefined },
  mercury: { apiUrl: "http://127.0.0.1:9", apiToken: undefined },
  openai: { apiUrl: "http://127.0.0.1:9", apiKey: undefined },
};

/**
 * Builds the delivery engine's context on a fresh test database: loopback targets allowed and the test
 * CA trusted, as the development setting does, so local HTTPS receivers can stand in for customers.
 */
export async function createOutboundContext(
  options: TestContextOptions & { integrations?: IntegrationSettings; timeoutMs?: number } = {},
): Promise<OutboundTestContext> {
  const base = await createTestContext(options);
  const cipher = base.secrets.cipher ?? (await SecretCipher.fromBase64(SecretCipher.generateKey()));
  let worker: DeliveryWorker | null = null;
  const ctx: OutboundContext = {
    db: base.db,
    clock: base.clock,
    logger: base.logger,
    cipher,
    http: { allowLoopback: true, extraCaPem: receiverCaPem, timeoutMs: options.timeoutMs ?? 5_000 },
    integrations: options.integrations ?? noIntegrations,
    deliverySettings: { ...defaultDeliverySettings, pollIntervalMs: 60_000 },
    onDeliveriesQueued: () => worker?.wake(),
    // The service's own writer: one statement on Postgres, a Drizzle transaction on the embedded database.
    recordSuccesses: createSuccessWriter(base.database),
  };
  worker = new DeliveryWorker(ctx);
  return { ...ctx, clock: base.clock, base, deliveryWorker: worker };
}

/** Records a CRM event in its own transaction, as a side effect would, and returns the message id. */
export async function recordEvent(ctx: OutboundContext, type: OutboundEventType, payload: unknown): Promise<number> {
  return ctx.db.transaction(async (tx) => new Outbox(tx, ctx.clock.now()).recordEvent(type, payload));
}

export async function deliveriesOf(ctx: OutboundContext, endpointId: string): Promise<Delivery[]> {
  return ctx.db
    .select()
    .from(deliveries)
    .where(eq(deliveries.endpointId, endpointId))
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id));
}

export async function onlyDelivery(ctx: OutboundContext, endpointId: string): Promise<Delivery> {
  const rows = await deliveriesOf(ctx, endpointId);
  const [delivery] = rows;
  if (!delivery || rows.length !== 1) {
    throw new Error(`expected one delivery to ${endpointId}, found ${rows.length}`);
  }
  return delivery;
}

export async function attemptsOf(ctx: OutboundContext, deliveryId: string) {
  return ctx.db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(asc(deliveryAttempts.attemptNumber), asc(deliveryAttempts.startedAt));
}

export async function readEndpoint(ctx: OutboundContext, id: string) {
  const [endpoint] = await ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return endpoint;
}

export async function readDelivery(ctx: OutboundContext, id: string): Promise<Delivery & { status: DeliveryStatus }> {
  const [delivery] = await ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
  if (!delivery) {
    throw new Error(`delivery ${id} not found`);
  }
  return delivery;
}
