import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { emailSuppressions, outreachEmails } from "@basalt/db";
import { eq } from "drizzle-orm";
import { DeliveryWorker, type EmailJob, type IntegrationSettings, Outbox } from "../../../src";
import { type CrmFixture, createCrmFixture, deliver } from "../../support";
import { type FakeIntegrations, startFakeIntegrations } from "../fakes/fake-integrations";
import { resendError, startFakeResend } from "../fakes/fake-resend";
import { attemptsOf, createOutboundContext, type OutboundTestContext, readDelivery } from "../support";

let ctx: OutboundTestContext;
let fakes: FakeIntegrations;

beforeAll(async () => {
  fakes = await startFakeIntegrations();
  ctx = await createOutboundContext({ integrations: fakes.settings });
});

afterEach(() => {
  fakes.reset();
});

afterAll(async () => {
  await fakes.stop();
  await ctx.base.database.destroy();
});

/** Queues an email in its own transaction, as a form submission does, and returns the delivery id. */
async function queueEmail(email: EmailJob): Promise<string> {
  return ctx.db.transaction((tx) => new Outbox(tx, ctx.clock.now()).queueIntegration("resend_email", email));
}

function welcomeEmail(fixture: CrmFixture, overrides: Partial<EmailJob> = {}): EmailJob {
  return {
    to: fixture.emailAddress,
    subject: "Thanks for reaching out",
    text: "We will get back to you within one business day.",
    leadId: fixture.leadId,
    kind: "auto_respond",
    ...overrides,
  };
}

/** Builds a delivery worker on the same database whose Resend settings differ from the fake's. */
function workerWithResend(resend: Partial<IntegrationSettings["resend"]>): DeliveryWorker {
  const integrations = { ...fakes.settings, resend: { ...fakes.settings.resend, ...resend } };
  return new DeliveryWorker({ ...ctx, integrations });
}

async function readSentEmails(providerEmailId: string) {
  return ctx.db.select().from(outreachEmails).where(eq(outreachEmails.providerEmailId, providerEmailId));
}

describe("resend email delivery", () => {
  test("email sent with key and body", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const email = welcomeEmail(fixture, { replyTo: "sales@basalt.test" });
    const deliveryId = await queueEmail(email);

    await ctx.deliveryWorker.drain();

    const [request, ...others] = fakes.resend.requests;
    expect(others).toHaveLength(0);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/emails");
    expect(request?.headers.authorization).toBe(`Bearer ${fakes.resend.apiKey}`);
    expect(request?.headers["idempotency-key"]).toBe(deliveryId);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.json).toEqual({
      from: fakes.settings.resend.from,
      to: [fixture.emailAddress],
      subject: email.subject,
      text: email.text,
      reply_to: "sales@basalt.test",
    });

    const [sent] = fakes.resend.emails;
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toBe(`sent as Resend email ${sent?.id}`);
    expect(delivery.attempts).toBe(1);
    const [row, ...otherRows] = await readSentEmails(sent?.id ?? "");
    expect(otherRows).toHaveLength(0);
    expect(row?.status).toBe("SENT");
    expect(row?.leadId).toBe(fixture.leadId);
    expect(row?.toAddress).toBe(fixture.emailAddress);
    expect(row?.subject).toBe(email.subject);
    expect(row?.sentAt).toEqual(ctx.clock.now());
  });

  test("email without reply address omits it", async () => {
    const fixture = await createCrmFixture(ctx.db);

    await queueEmail(welcomeEmail(fixture, { leadId: null, kind: "notification" }));
    await ctx.deliveryWorker.drain();

    const [request] = fakes.resend.requests;
    expect(request?.json).not.toHaveProperty("reply_to");
    const [sent] = fakes.resend.emails;
    const [row] = await readSentEmails(sent?.id ?? "");
    expect(row?.leadId).toBeNull();
    expect(row?.status).toBe("SENT");
  });

  test("delivered webhook updates sent email", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await queueEmail(welcomeEmail(fixture));
    await ctx.deliveryWorker.drain();
    const [sent] = fakes.resend.emails;
    const deliveredAt = new Date(ctx.clock.now().getTime() + 4_000);

    const stored = await deliver(ctx.base, "resend", {
      type: "email.delivered",
      created_at: deliveredAt.toISOString(),
      data: { email_id: sent?.id, to: [fixture.emailAddress], subject: "Thanks for reaching out" },
    });

    expect(stored.status).toBe("processed");
    const [row] = await readSentEmails(sent?.id ?? "");
    expect(row?.status).toBe("DELIVERED");
    expect(row?.deliveredAt).toEqual(deliveredAt);
  });
});

describe("resend suppression and settings", () => {
  test("bounced address is never sent again", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await deliver(ctx.base, "resend", {
      type: "email.bounced",
      created_at: ctx.clock.now().toISOString(),
      data: { email_id: fixture.emailId, bounce: { type: "Permanent" } },
    });
    const address = fixture.emailAddress.toLowerCase();

    const deliveryId = await queueEmail(welcomeEmail(fixture, { to: ` ${fixture.emailAddress.toUpperCase()} ` }));
    await ctx.deliveryWorker.drain();

    expect(fakes.resend.requests).toHaveLength(0);
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("skipped");
    expect(delivery.statusReason).toBe(`${address} is on the suppression list (bounced)`);
    expect(delivery.attempts).toBe(0);
    expect(await attemptsOf(ctx, deliveryId)).toHaveLength(0);
  });

  test("suppression stored in other case matches", async () => {
    const fixture = await createCrmFixture(ctx.db);
    await ctx.db.insert(emailSuppressions).values({ email: fixture.emailAddress.toUpperCase(), reason: "complained" });

    const deliveryId = await queueEmail(welcomeEmail(fixture));
    await ctx.deliveryWorker.drain();

    expect(fakes.resend.requests).toHaveLength(0);
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("skipped");
    expect(delivery.statusReason).toContain("is on the suppression list (complained)");
  });

  test.each([
    { variable: "RESEND_API_KEY", resend: { apiKey: undefined } },
    { variable: "EMAIL_FROM", resend: { from: undefined } },
  ])("missing $variable skips the email", async ({ variable, resend }) => {
    const fixture = await createCrmFixture(ctx.db);
    const deliveryId = await queueEmail(welcomeEmail(fixture));

    await workerWithResend(resend).drain();

    expect(fakes.resend.requests).toHaveLength(0);
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("skipped");
    expect(delivery.statusReason).toStartWith(`${variable} is not set`);
    expect(delivery.attempts).toBe(0);
    expect(await attemptsOf(ctx, deliveryId)).toHaveLength(0);
  });
});

describe("resend failures", () => {
  test("500 is retried with the same key", async () => {
    const fixture = await createCrmFixture(ctx.db);
    fakes.resend.respondNext(resendError(500, "internal_server_error", "Unexpected error."));
    const deliveryId = await queueEmail(welcomeEmail(fixture));

    await ctx.deliveryWorker.drain();

    const waiting = await readDelivery(ctx, deliveryId);
    expect(waiting.status).toBe("pending");
    expect(waiting.attempts).toBe(1);
    expect(waiting.lastStatusCode).toBe(500);
    expect(waiting.lastError).toBe("Resend responded 500: Unexpected error.");
    const waitMs = (waiting.nextAttemptAt?.getTime() ?? 0) - ctx.clock.now().getTime();
    expect(waitMs).toBeGreaterThanOrEqual(4_000);
    expect(waitMs).toBeLessThanOrEqual(6_000);

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const [first, second, ...others] = fakes.resend.requests;
    expect(others).toHaveLength(0);
    expect(first?.headers["idempotency-key"]).toBe(deliveryId);
    expect(second?.headers["idempotency-key"]).toBe(deliveryId);
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attempts).toBe(2);
    const attempts = await attemptsOf(ctx, deliveryId);
    expect(attempts.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
    expect(attempts[0]?.responseBody).toContain("internal_server_error");
    expect(fakes.resend.emails).toHaveLength(1);
  });

  test("429 waits for Retry-After", async () => {
    const fixture = await createCrmFixture(ctx.db);
    fakes.resend.respondNext({
      ...resendError(429, "rate_limit_exceeded", "Too many requests."),
      headers: { "retry-after": "30" },
    });
    const deliveryId = await queueEmail(welcomeEmail(fixture));
    const queuedAt = ctx.clock.now();

    await ctx.deliveryWorker.drain();
    ctx.clock.advance(29_000);
    await ctx.deliveryWorker.drain();

    const waiting = await readDelivery(ctx, deliveryId);
    expect(waiting.status).toBe("pending");
    expect(waiting.lastStatusCode).toBe(429);
    expect(waiting.nextAttemptAt).toEqual(new Date(queuedAt.getTime() + 30_000));
    expect(fakes.resend.requests).toHaveLength(1);

    ctx.clock.advance(1_000);
    await ctx.deliveryWorker.drain();

    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("succeeded");
    expect(fakes.resend.requests).toHaveLength(2);
  });

  test("422 fails at once", async () => {
    const fixture = await createCrmFixture(ctx.db);
    fakes.resend.respondNext(resendError(422, "validation_error", "Invalid `to` field."));
    const deliveryId = await queueEmail(welcomeEmail(fixture));

    await ctx.deliveryWorker.drain();
    ctx.clock.advance(3_600_000);
    await ctx.deliveryWorker.drain();

    expect(fakes.resend.requests).toHaveLength(1);
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts).toBe(1);
    expect(delivery.statusReason).toBe("Resend responded 422: Invalid `to` field.");
    expect(delivery.nextAttemptAt).toBeNull();
    const [attempt] = await attemptsOf(ctx, deliveryId);
    expect(attempt?.statusCode).toBe(422);
  });

  test("attempt log keeps 4 KiB", async () => {
    const fixture = await createCrmFixture(ctx.db);
    fakes.resend.respondNext(resendError(422, "validation_error", "x".repeat(10_000)));
    const deliveryId = await queueEmail(welcomeEmail(fixture));

    await ctx.deliveryWorker.drain();

    const [attempt] = await attemptsOf(ctx, deliveryId);
    expect(attempt?.responseBody).toHaveLength(4_096);
    expect(attempt?.responseBody).toStartWith('{"statusCode":422');
    expect(attempt?.error).toBeNull();
  });

  test("stopped server logs the network error", async () => {
    const fixture = await createCrmFixture(ctx.db);
    const stopped = await startFakeResend();
    await stopped.stop();
    const deliveryId = await queueEmail(welcomeEmail(fixture));

    await workerWithResend({ apiUrl: stopped.url }).drain();

    const waiting = await readDelivery(ctx, deliveryId);
    expect(waiting.status).toBe("pending");
    expect(waiting.lastStatusCode).toBeNull();
    expect(waiting.lastError).toStartWith("Resend request failed: ");
    const [attempt] = await attemptsOf(ctx, deliveryId);
    expect(attempt?.statusCode).toBeNull();
    expect(attempt?.responseBody).toBeNull();
    expect(attempt?.error).toContain("Unable to connect");

    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("succeeded");
  });

  test("timed-out send is not sent twice", async () => {
    const fixture = await createCrmFixture(ctx.db);
    fakes.resend.setDefaultDelay(1_000);
    const deliveryId = await queueEmail(welcomeEmail(fixture));

    await new DeliveryWorker({ ...ctx, http: { ...ctx.http, timeoutMs: 200 } }).drain();
    fakes.resend.setDefaultDelay(0);
    ctx.clock.advance(6_000);
    await ctx.deliveryWorker.drain();

    expect(fakes.resend.requests).toHaveLength(2);
    expect(fakes.resend.emails).toHaveLength(1);
    const [sent] = fakes.resend.emails;
    const delivery = await readDelivery(ctx, deliveryId);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.statusReason).toBe(`sent as Resend email ${sent?.id}`);
    const [timedOut] = await attemptsOf(ctx, deliveryId);
    expect(timedOut?.error).toContain("TimeoutError");
    expect(await readSentEmails(sent?.id ?? "")).toHaveLength(1);
  });
});
