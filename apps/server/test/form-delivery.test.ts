import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  createForm,
  DeliveryWorker,
  defaultDeliverySettings,
  EventWriter,
  type OutboundContext,
  type ReceiveContext,
  SecretCipher,
  SecretStore,
  silentLogger,
  systemClock,
} from "@basalt/core";
import {
  createEventInserter,
  createSuccessWriter,
  type Delivery,
  deliveries,
  formSubmissions,
  leads,
  outboundMessages,
  webhookEndpoints,
} from "@basalt/db";
import { createTestDatabase, type TestDatabase } from "@basalt/db/testing";
import { eq, sql } from "drizzle-orm";
import pino from "pino";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import {
  type HttpsReceiver,
  type ReceivedRequest,
  receiverCaPem,
  startHttpsReceiver,
} from "../../../packages/core/test/outbound/https-receiver";
import { createApp } from "../src/app";
import { ClientAddresses } from "../src/client-addresses";
import { createMetrics } from "../src/metrics";

// The setup of each group may wait up to `deliveryTimeoutMs` for a delivery, longer than Bun's default timeout of 5 s.
setDefaultTimeout(30_000);

/** Maximum wait for a submission's `form.submitted` delivery to be received and recorded as succeeded. */
const deliveryTimeoutMs = 15_000;

const decoder = new TextDecoder();

let database: TestDatabase | undefined;
let deliveryWorker: DeliveryWorker | undefined;
let listener: ReturnType<typeof Bun.serve> | undefined;
let receiver: HttpsReceiver;
let outbound: OutboundContext;
let serverUrl: string;

/**
 * Starts the HTTP app and the delivery worker as `main.ts` does, on a test database. The app listens on a
 * loopback port and takes each client address from the socket. Outbound requests may go to loopback
 * addresses and trust the test CA of the local receiver. The event worker is left out because form
 * submissions do not use it.
 */
beforeAll(async () => {
  database = await createTestDatabase();
  const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
  const secrets = new SecretStore({
    db: database.db,
    cipher,
    clock: systemClock,
    logger: silentLogger,
    environmentSecrets: {},
  });
  const core: ReceiveContext = {
    db: database.db,
    clock: systemClock,
    logger: silentLogger,
    secrets,
    events: new EventWriter(database.db, createEventInserter(database)),
    signatureToleranceSeconds: 300,
    onDeliveriesQueued: () => deliveryWorker?.wake(),
  };
  outbound = {
    ...core,
    cipher,
    http: { allowLoopback: true, extraCaPem: receiverCaPem, timeoutMs: 5_000 },
    integrations: {
      resend: { apiUrl: "http://127.0.0.1:9", apiKey: undefined, from: undefined },
      mercury: { apiUrl: "http://127.0.0.1:9", apiToken: undefined },
      openai: { apiUrl: "http://127.0.0.1:9", apiKey: undefined },
    },
    // A poll interval longer than the deadline means only the wake-up from the submission can send in time.
    deliverySettings: { ...defaultDeliverySettings, pollIntervalMs: 60_000 },
    recordSuccesses: createSuccessWriter(database),
  };
  deliveryWorker = new DeliveryWorker(outbound);
  deliveryWorker.start();

  const clientAddresses = new ClientAddresses(false);
  const app = createApp({
    core,
    database,
    logger: pino({ level: "silent" }),
    metrics: createMetrics(database.db),
    maxBodyBytes: 1_048_576,
    internalApiKey: undefined,
    enableDemoSeed: false,
    formRateLimit: { limit: 1_000, windowMs: 60_000 },
    clientAddress: (request) => clientAddresses.of(request),
  });
  listener = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) => {
      clientAddresses.remember(request, server.requestIP(request)?.address ?? null);
      return app.fetch(request);
    },
  });
  serverUrl = `http://127.0.0.1:${listener.port}`;
  receiver = await startHttpsReceiver();
});

afterAll(async () => {
  await listener?.stop(true);
  await deliveryWorker?.stop();
  await receiver?.stop();
  await database?.destroy();
});

function address(local: string): string {
  return [local, "example.com"].join("@");
}

/** Creates an active contact form, with the core function, whose webhook URL is a fresh path of the receiver. */
async function formWithWebhook() {
  const path = `/forms/${crypto.randomUUID()}`;
  const name = `Contact Us ${crypto.randomUUID().slice(0, 8)}`;
  const slug = `contact-${crypto.randomUUID()}`;
  const saved = await createForm(outbound, {
    name,
    slug,
    status: "ACTIVE",
    fields: [
      { name: "firstName", label: "First name", type: "text", required: true, leadField: "firstName" },
      { name: "lastName", label: "Last name", type: "text", leadField: "lastName" },
      { name: "email", label: "Email", type: "email", required: true, leadField: "email" },
      { name: "company", label: "Company", type: "text", leadField: "company" },
      { name: "message", label: "Message", type: "textarea" },
    ],
    webhookUrl: `${receiver.url}${path}`,
  });
  if (saved.webhookSecret === null) {
    throw new Error(`createForm returned no webhook secret for form ${saved.id}`);
  }
  return { id: saved.id, name, slug, path, secret: saved.webhookSecret };
}

async function formEndpoint(formId: string) {
  const rows = await outbound.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.formId, formId));
  const [endpoint] = rows;
  if (!endpoint || rows.length !== 1) {
    throw new Error(`expected one webhook endpoint for form ${formId}, found ${rows.length}`);
  }
  return endpoint;
}

/**
 * Polls until the endpoint's only delivery has succeeded, which the worker records after the receiver
 * responded. On timeout the error shows the deliveries last read, with their status and last error.
 */
async function succeededDelivery(endpointId: string): Promise<Delivery> {
  const deadline = Date.now() + deliveryTimeoutMs;
  let rows: Delivery[] = [];
  while (Date.now() < deadline) {
    rows = await outbound.db.select().from(deliveries).where(eq(deliveries.endpointId, endpointId));
    const [delivery] = rows;
    if (rows.length === 1 && delivery?.status === "succeeded") {
      return delivery;
    }
    await Bun.sleep(25);
  }
  const states = rows.map(({ id, status, attempts, lastStatusCode, lastError }) => ({
    id,
    status,
    attempts,
    lastStatusCode,
    lastError,
  }));
  throw new Error(
    `timed out after ${deliveryTimeoutMs} ms waiting for one succeeded delivery to endpoint ${endpointId}; deliveries: ${JSON.stringify(states)}`,
  );
}

/** Reads the headers that Standard Webhooks verification needs from a received request. */
function signatureHeaders(request: ReceivedRequest): Record<string, string> {
  return {
    "webhook-id": request.headers["webhook-id"] ?? "",
    "webhook-timestamp": request.headers["webhook-timestamp"] ?? "",
    "webhook-signature": request.headers["webhook-signature"] ?? "",
  };
}

interface SubmissionCase {
  readonly name: string;
  readonly contentType: string;
  /** Builds the request body from the submitted fields and the UTM parameters. */
  readonly body: (fields: Record<string, string>, utm: Record<string, string>) => string;
  /** Builds the query string, with its leading `?`, or an empty string. */
  readonly query: (utm: Record<string, string>) => string;
  /** Value of the message field. The form-encoded case adds characters that the encoding escapes. */
  readonly message: string;
}

const utmPrefixed = (utm: Record<string, string>) =>
  Object.fromEntries(Object.entries(utm).map(([name, value]) => [`utm_${name}`, value]));

const submissionCases: SubmissionCase[] = [
  {
    name: "JSON",
    contentType: "application/json",
    body: (fields, utm) => JSON.stringify({ ...fields, ...utmPrefixed(utm) }),
    query: () => "",
    message: "Interested in the PRO plan",
  },
  {
    name: "form-encoded",
    contentType: "application/x-www-form-urlencoded",
    body: (fields) => new URLSearchParams(fields).toString(),
    query: (utm) => `?${new URLSearchParams(utmPrefixed(utm)).toString()}`,
    message: "Interested in the PRO plan & more: 2+2=4, Zoë 🚀",
  },
];

for (const submissionCase of submissionCases) {
  describe(`${submissionCase.name} form submission`, () => {
    const utm = { source: "google", medium: "cpc", campaign: "spring_2026" };
    const email = address(`john.doe.${crypto.randomUUID().slice(0, 8)}`);
    const fields = {
      firstName: "John",
      lastName: "Doe",
      email,
      company: "Acme Corp",
      message: submissionCase.message,
    };

    let form: Awaited<ReturnType<typeof formWithWebhook>>;
    let response: Response;
    let responseBody: { received?: boolean; submission_id?: string };
    let sentAt: Date;
    let respondedAt: Date;
    let delivery: Delivery;
    let request: ReceivedRequest;
    let receivedCount: number;

    beforeAll(async () => {
      form = await formWithWebhook();

      sentAt = new Date();
      response = await fetch(`${serverUrl}/api/forms/${form.slug}/submissions${submissionCase.query(utm)}`, {
        method: "POST",
        headers: { "content-type": submissionCase.contentType, "user-agent": "Mozilla/5.0 (form delivery test)" },
        body: submissionCase.body(fields, utm),
      });
      responseBody = (await response.json()) as typeof responseBody;
      respondedAt = new Date();

      delivery = await succeededDelivery((await formEndpoint(form.id)).id);
      const requests = receiver.requests.filter((received) => received.path === form.path);
      receivedCount = requests.length;
      const [first] = requests;
      if (!first) {
        throw new Error(`the delivery ${delivery.id} succeeded but the receiver recorded no request to ${form.path}`);
      }
      request = first;
    });

    test("responds 201 with submission id", () => {
      expect(response.status).toBe(201);
      expect(responseBody.received).toBe(true);
      expect(responseBody.submission_id).toStartWith("sub_");
    });

    test("submission is stored with its lead", async () => {
      const [submission] = await outbound.db
        .select()
        .from(formSubmissions)
        .where(eq(formSubmissions.id, responseBody.submission_id ?? ""));

      expect(submission?.formId).toBe(form.id);
      expect(submission?.data).toEqual(fields);
      expect(submission?.utm).toEqual(utm);
      expect(submission?.ipAddress).toBe("127.0.0.1");
      expect(submission?.userAgent).toBe("Mozilla/5.0 (form delivery test)");
      expect(submission?.leadId).toStartWith("lead_");
    });

    test("lead has the mapped fields", async () => {
      const rows = await outbound.db
        .select()
        .from(leads)
        .where(eq(sql`lower(${leads.email})`, email.toLowerCase()));

      expect(rows).toHaveLength(1);
      const [lead] = rows;
      expect(lead?.email).toBe(email);
      expect(lead?.firstName).toBe("John");
      expect(lead?.lastName).toBe("Doe");
      expect(lead?.company).toBe("Acme Corp");
      expect(lead?.phone).toBeNull();
      expect(lead?.jobTitle).toBeNull();
      const [submission] = await outbound.db
        .select({ leadId: formSubmissions.leadId })
        .from(formSubmissions)
        .where(eq(formSubmissions.id, responseBody.submission_id ?? ""));
      expect(submission?.leadId).toBe(lead?.id ?? "");
    });

    test("receiver gets one signed POST", async () => {
      expect(receivedCount).toBe(1);
      expect(request.method).toBe("POST");
      expect(request.path).toBe(form.path);
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["user-agent"]).toBe("BasaltWebhooks/1.0");
      expect(request.headers["webhook-id"]).toBe(delivery.messageId);
      expect(request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);

      const timestamp = Number(request.headers["webhook-timestamp"]);
      expect(Number.isSafeInteger(timestamp)).toBe(true);
      expect(timestamp).toBeGreaterThanOrEqual(Math.floor(sentAt.getTime() / 1000));
      expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

      const [message] = await outbound.db
        .select()
        .from(outboundMessages)
        .where(eq(outboundMessages.id, delivery.messageId));
      expect(message?.eventType).toBe("form.submitted");
      expect(decoder.decode(request.body)).toBe(message?.body ?? "");
    });

    test("payload has the developer page's fields", async () => {
      const payload = JSON.parse(decoder.decode(request.body)) as Record<string, unknown>;

      expect(Object.keys(payload).sort()).toEqual([
        "data",
        "form_id",
        "form_name",
        "submission_id",
        "submitted_at",
        "utm",
      ]);
      expect(payload.form_id).toBe(form.id);
      expect(payload.form_name).toBe(form.name);
      expect(payload.submission_id).toBe(responseBody.submission_id ?? "");
      expect(payload.data).toEqual(fields);
      expect(payload.utm).toEqual(utm);

      expect(payload.submitted_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const submittedAt = new Date(String(payload.submitted_at));
      expect(submittedAt.getTime()).toBeGreaterThanOrEqual(sentAt.getTime());
      expect(submittedAt.getTime()).toBeLessThanOrEqual(respondedAt.getTime());
      const [submission] = await outbound.db
        .select({ submittedAt: formSubmissions.submittedAt })
        .from(formSubmissions)
        .where(eq(formSubmissions.id, responseBody.submission_id ?? ""));
      expect(payload.submitted_at).toBe(submission?.submittedAt.toISOString() ?? "");
    });

    test("signature verifies with the form's secret", () => {
      expect(form.secret).toStartWith("whsec_");

      const verified = new Webhook(form.secret).verify(decoder.decode(request.body), signatureHeaders(request));

      expect(verified).toEqual(JSON.parse(decoder.decode(request.body)));
    });

    test("signature fails with another secret", () => {
      const otherSecret = `whsec_${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;

      expect(() => new Webhook(otherSecret).verify(decoder.decode(request.body), signatureHeaders(request))).toThrow(
        WebhookVerificationError,
      );
    });
  });
}
