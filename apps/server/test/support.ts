import {
  type EventSource,
  EventWorker,
  EventWriter,
  type RateLimit,
  type ReceiveContext,
  SecretCipher,
  SecretStore,
  signHex,
  signStandardWebhook,
  silentLogger,
  systemClock,
} from "@basalt/core";
import { createEventInserter } from "@basalt/db";
import { createTestDatabase, type TestDatabase } from "@basalt/db/testing";
import pino from "pino";
import { createApp } from "../src/app";
import { createMetrics } from "../src/metrics";

export const testSecrets = {
  surge: "surge-route-secret-0123456789abcdef",
  basaltecho: "echo-route-secret-0123456789abcdef",
  resend: `whsec_${new Uint8Array(24).fill(3).toBase64()}`,
  openai: `whsec_${new Uint8Array(32).fill(5).toBase64()}`,
} as const;

export const internalApiKey = "internal-test-key-0123456789abcdef0123456789";

export interface TestServer {
  readonly app: ReturnType<typeof createApp>;
  readonly database: TestDatabase;
  readonly core: ReceiveContext;
  readonly worker: EventWorker;
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** Builds the HTTP app on a fresh test database, without listening; requests go through `app.handle`. */
export async function createTestServer(
  options: {
    environmentSecrets?: Partial<Record<EventSource, string>>;
    maxBodyBytes?: number;
    apiKey?: string | null;
    formRateLimit?: RateLimit;
  } = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const secrets = new SecretStore({
    db: database.db,
    cipher: await SecretCipher.fromBase64(SecretCipher.generateKey()),
    clock: systemClock,
    logger: silentLogger,
    environmentSecrets: options.environmentSecrets ?? testSecrets,
  });
  const core: ReceiveContext = {
    db: database.db,
    clock: systemClock,
    logger: silentLogger,
    secrets,
    events: new EventWriter(database.db, createEventInserter(database)),
    signatureToleranceSeconds: 300,
  };
  const app = createApp({
    core,
    database,
    logger: pino({ level: "silent" }),
    metrics: createMetrics(database.db),
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
    internalApiKey: options.apiKey === null ? undefined : (options.apiKey ?? internalApiKey),
    enableDemoSeed: true,
    formRateLimit: options.formRateLimit ?? { limit: 1_000, windowMs: 60_000 },
    // Tests name the client address in this header; the real server takes it from the socket.
    clientAddress: (request) => request.headers.get("x-test-client-address"),
  });
  return {
    app,
    database,
    core,
    worker: new EventWorker(core),
    request: (path, init) => app.handle(new Request(`http://localhost${path}`, init)),
  };
}

/** Returns headers that sign `body` for `source` with its test secret, as the provider would. */
export function signFor(source: EventSource, body: string, id = `msg_${crypto.randomUUID()}`): Record<string, string> {
  const bytes = new TextEncoder().encode(body);
  if (source === "surge") {
    return { "x-surge-signature": signHex(testSecrets.surge, bytes) };
  }
  if (source === "basaltecho") {
    return { "x-basaltecho-signature": signHex(testSecrets.basaltecho, bytes) };
  }
  const prefix = source === "resend" ? "svix" : "webhook";
  const timestamp = Math.floor(Date.now() / 1000);
  const key = Uint8Array.fromBase64(testSecrets[source].slice("whsec_".length));
  return {
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(timestamp),
    [`${prefix}-signature`]: signStandardWebhook(key, id, timestamp, bytes),
  };
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}
