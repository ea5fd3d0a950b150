import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { webhookEndpoints } from "@basalt/db";
import { eq } from "drizzle-orm";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { createEndpoint, createForm, type SubmitFormResult, submitForm } from "../../src";
import { type HttpsReceiver, type ReceivedRequest, startHttpsReceiver } from "../outbound/https-receiver";
import { createOutboundContext, deliveriesOf, type OutboundTestContext } from "../outbound/support";

let ctx: OutboundTestContext;
let receiver: HttpsReceiver;

beforeAll(async () => {
  ctx = await createOutboundContext();
  receiver = await startHttpsReceiver();
});

afterAll(async () => {
  await receiver.stop();
  await ctx.base.database.destroy();
});

const decoder = new TextDecoder();

function address(local: string): string {
  return [local, "example.com"].join("@");
}

/** Creates an active contact form whose webhook URL is a fresh path of the local receiver. */
async function formWithWebhook() {
  const path = `/forms/${crypto.randomUUID()}`;
  const name = `Contact ${crypto.randomUUID().slice(0, 8)}`;
  const slug = `contact-${crypto.randomUUID()}`;
  const saved = await createForm(ctx, {
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
    throw new Error("expected the form's webhook secret");
  }
  return { id: saved.id, name, slug, path, secret: saved.webhookSecret };
}

async function formEndpointId(formId: string): Promise<string> {
  const [endpoint] = await ctx.db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.formId, formId));
  if (!endpoint) {
    throw new Error(`form ${formId} has no endpoint`);
  }
  return endpoint.id;
}

function requestsTo(path: string): ReceivedRequest[] {
  return receiver.requests.filter((request) => request.path === path);
}

/** Verifies a received request with the official Standard Webhooks library and returns its parsed body. */
function verify(secret: string, request: ReceivedRequest): unknown {
  return new Webhook(secret).verify(decoder.decode(request.body), {
    "webhook-id": request.headers["webhook-id"] ?? "",
    "webhook-timestamp": request.headers["webhook-timestamp"] ?? "",
    "webhook-signature": request.headers["webhook-signature"] ?? "",
  });
}

const submittedData = {
  firstName: "John",
  lastName: "Doe",
  email: address("john"),
  company: "Acme Corp",
  message: "Interested in the PRO plan — 東京 🚀",
};

async function submitContact(slug: string): Promise<SubmitFormResult> {
  // Real time, because the receiver's verification compares the timestamp with its own clock.
  ctx.clock.set(new Date());
  return submitForm(ctx, {
    slug,
    values: { ...submittedData, firstName: "  John  ", unknownField: "dropped" },
    utm: { source: "google", medium: "cpc", campaign: "spring_2026" },
    ipAddress: "198.51.100.20",
    userAgent: "Mozilla/5.0",
    rateLimit: { limit: 100, windowMs: 60_000 },
  });
}

describe("form.submitted delivery", () => {
  test("verifies with the form's secret", async () => {
    const form = await formWithWebhook();
    const result = await submitContact(form.slug);

    await ctx.deliveryWorker.drain();

    const requests = requestsTo(form.path);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    if (!request) {
      throw new Error("the receiver got no request");
    }
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    const payload = verify(form.secret, request);
    expect(payload).toEqual({
      form_id: form.id,
      form_name: form.name,
      submission_id: result.submissionId,
      submitted_at: ctx.clock.now().toISOString(),
      data: submittedData,
      utm: { source: "google", medium: "cpc", campaign: "spring_2026" },
    });
    expect(Object.keys(payload as object).sort()).toEqual([
      "data",
      "form_id",
      "form_name",
      "submission_id",
      "submitted_at",
      "utm",
    ]);

    const [delivery] = await deliveriesOf(ctx, await formEndpointId(form.id));
    expect(delivery?.status).toBe("succeeded");
    expect(request.headers["webhook-id"]).toBe(delivery?.messageId ?? "");
  });

  test("other secret fails verification", async () => {
    const form = await formWithWebhook();
    const other = await formWithWebhook();
    await submitContact(form.slug);

    await ctx.deliveryWorker.drain();

    const [request] = requestsTo(form.path);
    if (!request) {
      throw new Error("the receiver got no request");
    }
    expect(() => verify(other.secret, request)).toThrow(WebhookVerificationError);
    expect(requestsTo(other.path)).toHaveLength(0);
  });

  test("admin endpoint uses its own secret", async () => {
    const adminPath = `/admin/${crypto.randomUUID()}`;
    const admin = await createEndpoint(ctx, { url: `${receiver.url}${adminPath}`, eventTypes: ["form.submitted"] });
    const form = await formWithWebhook();
    const result = await submitContact(form.slug);

    await ctx.deliveryWorker.drain();

    const [request] = requestsTo(adminPath);
    if (!request) {
      throw new Error("the admin endpoint got no request");
    }
    const payload = verify(admin.secret, request) as { submission_id: string; data: Record<string, string> };
    expect(payload.submission_id).toBe(result.submissionId);
    expect(payload.data).toEqual(submittedData);
    expect(() => verify(form.secret, request)).toThrow(WebhookVerificationError);
  });
});
