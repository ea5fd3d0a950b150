import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deliveries, formSubmissions, leadActivities, leads, outboundMessages, webhookEndpoints } from "@basalt/db";
import { and, eq, sql } from "drizzle-orm";
import {
  createEndpoint,
  createForm,
  type EmailJob,
  FieldValidationError,
  type FormInput,
  NotFoundError,
  newId,
  RateLimitedError,
  type SubmitFormInput,
  submitForm,
  updateForm,
} from "../../src";
import { createOutboundContext, deliveriesOf, type OutboundTestContext } from "../outbound/support";

let ctx: OutboundTestContext;

beforeAll(async () => {
  ctx = await createOutboundContext();
});

afterAll(async () => {
  await ctx.base.database.destroy();
});

/** The `form.submitted` body, whose six keys the public developer page fixes. */
interface FormSubmittedPayload {
  form_id: string;
  form_name: string;
  submission_id: string;
  submitted_at: string;
  data: Record<string, string>;
  utm: Record<string, string>;
}

const formSubmittedKeys = ["data", "form_id", "form_name", "submission_id", "submitted_at", "utm"];

/** A rate limit so high that no test outside the rate limit tests reaches it. */
const noRateLimit = { limit: 1_000_000, windowMs: 60_000 };

function address(local: string, domain = "example.com"): string {
  return [local, domain].join("@");
}

/** Returns an email address no other test uses, with capitals, so that case-insensitive matching is exercised. */
function uniqueAddress(): string {
  return address(`Ann.${crypto.randomUUID().slice(0, 8)}`, "Example.com");
}

/** Returns a loopback URL on the discard port. Nothing in this file drains deliveries, so nothing is sent to it. */
function hookUrl(): string {
  return `https://127.0.0.1:9/forms/${crypto.randomUUID()}`;
}

/** Creates an active contact form with a unique name and slug. Each override replaces a whole top-level property. */
async function activeForm(overrides: Partial<FormInput> = {}) {
  const input: FormInput = {
    name: `Contact ${crypto.randomUUID().slice(0, 8)}`,
    slug: `contact-${crypto.randomUUID()}`,
    status: "ACTIVE",
    fields: [
      { name: "firstName", label: "First name", type: "text", required: true, leadField: "firstName" },
      { name: "lastName", label: "Last name", type: "text", leadField: "lastName" },
      { name: "email", label: "Email", type: "email", required: true, leadField: "email" },
      { name: "company", label: "Company", type: "text", leadField: "company" },
      { name: "message", label: "Message", type: "textarea" },
    ],
    ...overrides,
  };
  const saved = await createForm(ctx, input);
  return { ...saved, name: input.name, slug: input.slug, input };
}

function submit(slug: string, values: Record<string, string>, extra: Partial<SubmitFormInput> = {}) {
  return submitForm(ctx, {
    slug,
    values,
    utm: {},
    ipAddress: null,
    userAgent: null,
    rateLimit: noRateLimit,
    ...extra,
  });
}

/** Returns the error a promise rejects with; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) {
      return error;
    }
    throw new Error(`expected an Error, got ${String(error)}`);
  }
  throw new Error("expected the promise to reject, but it resolved");
}

async function submissionsOf(formId: string) {
  return ctx.db.select().from(formSubmissions).where(eq(formSubmissions.formId, formId));
}

async function readSubmission(id: string) {
  const [submission] = await ctx.db.select().from(formSubmissions).where(eq(formSubmissions.id, id));
  return submission;
}

async function leadsWithEmail(email: string) {
  return ctx.db
    .select()
    .from(leads)
    .where(eq(sql`lower(${leads.email})`, email.toLowerCase()));
}

async function activitiesOf(leadId: string) {
  return ctx.db.select().from(leadActivities).where(eq(leadActivities.leadId, leadId));
}

/** Returns every queued Resend email, parsed. Tests pick theirs by a unique recipient or subject. */
async function queuedEmails(): Promise<(EmailJob & { deliveryId: string })[]> {
  const rows = await ctx.db
    .select({ deliveryId: deliveries.id, body: outboundMessages.body })
    .from(deliveries)
    .innerJoin(outboundMessages, eq(outboundMessages.id, deliveries.messageId))
    .where(eq(deliveries.target, "resend_email"));
  return rows.map((row) => ({ ...(JSON.parse(row.body) as EmailJob), deliveryId: row.deliveryId }));
}

/** Returns the `form.submitted` payloads queued for an endpoint. */
async function payloadsFor(endpointId: string): Promise<FormSubmittedPayload[]> {
  const rows = await ctx.db
    .select({ body: outboundMessages.body, eventType: outboundMessages.eventType })
    .from(deliveries)
    .innerJoin(outboundMessages, eq(outboundMessages.id, deliveries.messageId))
    .where(eq(deliveries.endpointId, endpointId));
  return rows.map((row) => {
    expect(row.eventType).toBe("form.submitted");
    return JSON.parse(row.body) as FormSubmittedPayload;
  });
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

describe("submitForm availability", () => {
  for (const status of ["DRAFT", "PAUSED", "ARCHIVED"] as const) {
    test(`${status} form is NotFoundError`, async () => {
      const form = await activeForm({ status });

      const error = await rejectionOf(submit(form.slug, { firstName: "Ann", email: uniqueAddress() }));

      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.message).toContain(form.slug);

      expect(await submissionsOf(form.id)).toHaveLength(0);
    });
  }

  test("unknown slug is NotFoundError", async () => {
    const error = await rejectionOf(submit(`missing-${crypto.randomUUID()}`, { firstName: "Ann" }));

    expect(error).toBeInstanceOf(NotFoundError);
  });

  const impossibleSlugs = [
    { case: "NUL character", slug: "contact\u0000" },
    { case: "lone surrogate", slug: "contact-\ud800" },
    { case: "capital letters", slug: "Contact" },
    { case: "over 64 characters", slug: "a".repeat(65) },
    { case: "empty string", slug: "" },
  ];

  for (const { case: name, slug } of impossibleSlugs) {
    test(`slug with ${name} is NotFoundError`, async () => {
      const error = await rejectionOf(submit(slug, { firstName: "Ann" }));

      expect(error).toBeInstanceOf(NotFoundError);
    });
  }

  test("form activated later accepts submissions", async () => {
    const form = await activeForm({ status: "DRAFT" });
    await updateForm(ctx, form.id, { ...form.input, status: "ACTIVE" });

    const result = await submit(form.slug, { firstName: "Ann", email: uniqueAddress() });

    expect(result.submissionId).toStartWith("sub_");
    expect(await submissionsOf(form.id)).toHaveLength(1);
  });
});

describe("submitForm validation", () => {
  test("missing required fields listed together", async () => {
    const form = await activeForm();

    const error = await rejectionOf(submit(form.slug, { message: "Hello" }));

    expect(error).toBeInstanceOf(FieldValidationError);
    const fieldErrors = error instanceof FieldValidationError ? error.fieldErrors : {};
    expect(Object.keys(fieldErrors).sort()).toEqual(["email", "firstName"]);
    expect(fieldErrors.firstName).toBe("First name is required");
    expect(fieldErrors.email).toBe("Email is required");

    expect(await submissionsOf(form.id)).toHaveLength(0);
  });

  test("type errors store nothing", async () => {
    const form = await activeForm({
      fields: [
        { name: "email", label: "Email", type: "email", required: true, leadField: "email" },
        { name: "seats", label: "Seats", type: "number" },
        { name: "website", label: "Website", type: "url" },
        { name: "plan", label: "Plan", type: "select", options: ["Starter", "Pro"] },
      ],
      notifyEmails: [address("sales")],
      webhookUrl: hookUrl(),
    });
    const email = uniqueAddress();

    const error = await rejectionOf(
      submit(form.slug, { email: "not-an-email", seats: "ten", website: "example", plan: "Gold" }),
    );

    expect(error).toBeInstanceOf(FieldValidationError);
    const fieldErrors = error instanceof FieldValidationError ? error.fieldErrors : {};
    expect(fieldErrors.email).toBe("Email must be an email address");
    expect(fieldErrors.seats).toBe("Seats must be a number");
    expect(fieldErrors.website).toContain("Website must be");
    expect(fieldErrors.plan).toBe("Plan must be one of: Starter, Pro");

    expect(await submissionsOf(form.id)).toHaveLength(0);
    expect(await leadsWithEmail(email)).toHaveLength(0);
    expect(await deliveriesOf(ctx, await formEndpointId(form.id))).toHaveLength(0);
  });

  test("value over 5000 characters rejected", async () => {
    const form = await activeForm();

    const error = await rejectionOf(
      submit(form.slug, { firstName: "Ann", email: uniqueAddress(), message: "x".repeat(5_001) }),
    );

    expect(error).toBeInstanceOf(FieldValidationError);
    const fieldErrors = error instanceof FieldValidationError ? error.fieldErrors : {};
    expect(fieldErrors.message).toContain("5000");

    expect(await submissionsOf(form.id)).toHaveLength(0);
  });
});

describe("submitForm storage", () => {
  test("stores trimmed data and UTM", async () => {
    const form = await activeForm();
    const email = uniqueAddress();
    const utm = { source: "google", medium: "cpc", campaign: "spring_2026", term: "crm software", content: "ad-7" };

    const result = await submit(
      form.slug,
      { firstName: "  Ann ", email: ` ${email}\n`, message: "Interested in PRO", isAdmin: "true" },
      { utm: { ...utm, id: "not-a-utm-parameter" }, ipAddress: "203.0.113.9", userAgent: "Mozilla/5.0 (Test)" },
    );

    const submission = await readSubmission(result.submissionId);
    expect(submission?.formId).toBe(form.id);
    expect(submission?.data).toEqual({ firstName: "Ann", email, message: "Interested in PRO" });
    expect(submission?.utm).toEqual(utm);
    expect(submission?.leadId).toBe(result.leadId);
    expect(submission?.ipAddress).toBe("203.0.113.9");
    expect(submission?.userAgent).toBe("Mozilla/5.0 (Test)");
    expect(submission?.submittedAt).toEqual(ctx.clock.now());
  });

  test("empty UTM values are left out", async () => {
    const form = await activeForm();

    const result = await submit(
      form.slug,
      { firstName: "Ann", email: uniqueAddress() },
      { utm: { source: "newsletter", medium: "", campaign: "   " } },
    );

    expect((await readSubmission(result.submissionId))?.utm).toEqual({ source: "newsletter" });
  });

  test("long UTM value is cut whole", async () => {
    const form = await activeForm();
    const campaign = `x${"🚀".repeat(150)}`;

    const result = await submit(
      form.slug,
      { firstName: "Ann", email: uniqueAddress() },
      { utm: { source: " google ", campaign } },
    );

    const stored = (await readSubmission(result.submissionId))?.utm ?? {};
    expect(stored.source).toBe("google");
    expect(stored.campaign?.length).toBeLessThanOrEqual(200);
    expect(stored.campaign?.isWellFormed()).toBe(true);
    expect(campaign.startsWith(stored.campaign ?? "-")).toBe(true);
  });

  const unstorableUtm = [
    { case: "NUL", value: "spring\u0000" },
    { case: "lone surrogate", value: "spring \udc00" },
  ];

  for (const { case: name, value } of unstorableUtm) {
    test(`UTM with ${name} is rejected`, async () => {
      const form = await activeForm();

      const error = await rejectionOf(
        submit(form.slug, { firstName: "Ann", email: uniqueAddress() }, { utm: { campaign: value } }),
      );

      expect(error).toBeInstanceOf(FieldValidationError);
      const fieldErrors = error instanceof FieldValidationError ? error.fieldErrors : {};
      expect(fieldErrors.utm_campaign).toContain("cannot be stored");

      expect(await submissionsOf(form.id)).toHaveLength(0);
    });
  }

  test("long user agent is cut", async () => {
    const form = await activeForm();

    const result = await submit(
      form.slug,
      { firstName: "Ann", email: uniqueAddress() },
      { userAgent: `Bot/${"x".repeat(2_000)}` },
    );

    expect((await readSubmission(result.submissionId))?.userAgent).toHaveLength(512);
  });
});

describe("submitForm leads", () => {
  test("creates lead from mapped fields", async () => {
    const form = await activeForm();
    const email = uniqueAddress();

    const result = await submit(form.slug, {
      firstName: "Ann",
      lastName: "Lee",
      email,
      company: "Acme Corp",
      message: "Not a lead field",
    });

    expect(result.leadId).not.toBeNull();
    const found = await leadsWithEmail(email);
    expect(found).toHaveLength(1);
    const [lead] = found;
    expect(lead?.id).toBe(result.leadId ?? "");
    expect(lead?.firstName).toBe("Ann");
    expect(lead?.lastName).toBe("Lee");
    expect(lead?.email).toBe(email);
    expect(lead?.company).toBe("Acme Corp");
    expect(lead?.phone).toBeNull();
    expect(lead?.status).toBe("NEW");
    expect(lead?.pipelineStage).toBe("Identify");
  });

  test("email in other case updates lead", async () => {
    const form = await activeForm();
    const email = uniqueAddress();
    const first = await submit(form.slug, { firstName: "Ann", email, company: "Acme Corp" });

    const second = await submit(form.slug, { firstName: "Annie", lastName: "Lee", email: email.toLowerCase() });

    expect(second.leadId).toBe(first.leadId);
    const found = await leadsWithEmail(email);
    expect(found).toHaveLength(1);
    expect(found[0]?.firstName).toBe("Annie");
    expect(found[0]?.lastName).toBe("Lee");
    expect(found[0]?.company).toBe("Acme Corp");
    expect((await readSubmission(second.submissionId))?.leadId).toBe(first.leadId);
  });

  test("existing CRM lead is reused", async () => {
    const form = await activeForm();
    const email = uniqueAddress();
    const leadId = newId("lead");
    await ctx.db.insert(leads).values({ id: leadId, email: email.toUpperCase(), pipelineStage: "Offering" });

    const result = await submit(form.slug, { firstName: "Ann", email });

    expect(result.leadId).toBe(leadId);
    const found = await leadsWithEmail(email);
    expect(found).toHaveLength(1);
    expect(found[0]?.firstName).toBe("Ann");
    expect(found[0]?.pipelineStage).toBe("Offering");
  });

  test("concurrent new email gives one lead", async () => {
    const form = await activeForm();
    const email = uniqueAddress();
    const spellings = [email, email.toLowerCase(), email.toUpperCase(), email, email.toLowerCase(), email];

    const results = await Promise.all(
      spellings.map((spelling) => submit(form.slug, { firstName: "Ann", email: spelling })),
    );

    const found = await leadsWithEmail(email);
    expect(found).toHaveLength(1);
    const leadId = found[0]?.id ?? "";
    for (const result of results) {
      expect(result.leadId).toBe(leadId);
    }
    const activities = await activitiesOf(leadId);
    expect(activities).toHaveLength(spellings.length);
    expect(activities.filter((activity) => activity.data?.leadCreated === true)).toHaveLength(1);
    expect(await submissionsOf(form.id)).toHaveLength(spellings.length);
  });

  test("unmapped form creates no lead", async () => {
    const form = await activeForm({
      fields: [
        { name: "email", label: "Email", type: "email", required: true },
        { name: "message", label: "Message", type: "textarea" },
      ],
    });
    const email = uniqueAddress();

    const result = await submit(form.slug, { email, message: "Just a question" });

    expect(result.leadId).toBeNull();
    expect((await readSubmission(result.submissionId))?.leadId).toBeNull();
    expect(await leadsWithEmail(email)).toHaveLength(0);
  });

  test("timeline gets form.submitted activity", async () => {
    const form = await activeForm();

    const result = await submit(form.slug, { firstName: "Ann", email: uniqueAddress() });

    const activities = await activitiesOf(result.leadId ?? "");
    expect(activities).toHaveLength(1);
    const [activity] = activities;
    expect(activity?.kind).toBe("form.submitted");
    expect(activity?.summary).toContain(form.name);
    expect(activity?.occurredAt).toEqual(ctx.clock.now());
    expect(activity?.data).toEqual({ formId: form.id, submissionId: result.submissionId, leadCreated: true });
  });

  test("Object.prototype field names are safe", async () => {
    const form = await activeForm({
      fields: [
        { name: "email", label: "Email", type: "email", required: true, leadField: "email" },
        { name: "constructor", label: "Builder", type: "text", leadField: "company" },
        { name: "toString", label: "Note", type: "text" },
      ],
      notifyEmails: [address("sales")],
    });
    const email = uniqueAddress();

    const result = await submit(form.slug, { email });

    expect((await readSubmission(result.submissionId))?.data).toEqual({ email });
    const found = await leadsWithEmail(email);
    expect(found[0]?.company).toBeNull();
    const [notification] = (await queuedEmails()).filter((job) => job.subject === `New submission: ${form.name}`);
    expect(notification?.text).not.toContain("Builder");
    expect(notification?.text).not.toContain("Note");
  });
});

describe("submitForm emails", () => {
  test("auto-respond queued to the submitter", async () => {
    const form = await activeForm({
      autoRespondEnabled: true,
      autoRespondSubject: "Thanks for reaching out",
      autoRespondBody: "We will call you within a day.",
    });
    const email = uniqueAddress();

    const result = await submit(form.slug, { firstName: "Ann", email: `  ${email} ` });

    const replies = (await queuedEmails()).filter((job) => job.to === email);
    expect(replies).toHaveLength(1);
    const [reply] = replies;
    expect(reply?.kind).toBe("auto_respond");
    expect(reply?.subject).toBe("Thanks for reaching out");
    expect(reply?.text).toBe("We will call you within a day.");
    expect(reply?.leadId).toBe(result.leadId);
  });

  test("auto-respond has default subject and text", async () => {
    const form = await activeForm({ autoRespondEnabled: true });
    const email = uniqueAddress();

    await submit(form.slug, { firstName: "Ann", email });

    const [reply] = (await queuedEmails()).filter((job) => job.to === email);
    expect(reply?.subject).toBe("Thank you for contacting us");
    expect(reply?.text).toContain("We received your message");
  });

  test("auto-respond off queues nothing", async () => {
    const form = await activeForm({ autoRespondEnabled: false, autoRespondSubject: "Thanks" });
    const email = uniqueAddress();

    await submit(form.slug, { firstName: "Ann", email });

    expect((await queuedEmails()).filter((job) => job.to === email)).toHaveLength(0);
  });

  test("auto-respond needs a mapped email field", async () => {
    const form = await activeForm({
      autoRespondEnabled: true,
      fields: [
        { name: "firstName", label: "First name", type: "text", leadField: "firstName" },
        { name: "email", label: "Email", type: "email", required: true },
      ],
    });
    const email = uniqueAddress();

    await submit(form.slug, { firstName: "Ann", email });

    expect((await queuedEmails()).filter((job) => job.to === email)).toHaveLength(0);
  });

  test("one notification per notify address", async () => {
    const notify = [
      address(`sales-${crypto.randomUUID().slice(0, 8)}`),
      address(`ops-${crypto.randomUUID().slice(0, 8)}`),
    ];
    const form = await activeForm({ notifyEmails: notify });
    const email = uniqueAddress();

    const result = await submit(
      form.slug,
      { firstName: "Ann", email, message: "Interested in PRO" },
      { utm: { source: "google", campaign: "spring_2026" } },
    );

    const notifications = (await queuedEmails()).filter((job) => job.subject === `New submission: ${form.name}`);
    expect(notifications.map((job) => job.to).sort()).toEqual([...notify].sort());
    for (const notification of notifications) {
      expect(notification.kind).toBe("notification");
      expect(notification.leadId).toBe(result.leadId);
      expect(notification.replyTo).toBe(email);
      expect(notification.text).toContain(form.name);
      expect(notification.text).toContain("First name: Ann");
      expect(notification.text).toContain(`Email: ${email}`);
      expect(notification.text).toContain("Message: Interested in PRO");
      expect(notification.text).toContain("utm_source: google");
      expect(notification.text).toContain("utm_campaign: spring_2026");
    }
  });

  test("notification without lead has no leadId", async () => {
    const notify = address(`sales-${crypto.randomUUID().slice(0, 8)}`);
    const form = await activeForm({
      notifyEmails: [notify],
      fields: [{ name: "question", label: "Question", type: "textarea", required: true }],
    });

    await submit(form.slug, { question: "Do you integrate with Mercury?" });

    const [notification] = (await queuedEmails()).filter((job) => job.to === notify);
    expect(notification?.leadId).toBeNull();
    expect(notification?.replyTo).toBeNull();
    expect(notification?.text).toContain("Question: Do you integrate with Mercury?");
  });
});

describe("submitForm webhooks", () => {
  test("form endpoint gets the payload", async () => {
    const form = await activeForm({ webhookUrl: hookUrl() });
    const email = uniqueAddress();

    const result = await submit(
      form.slug,
      { firstName: "Ann", email, message: "Hi" },
      { utm: { source: "google", medium: "cpc" } },
    );

    const payloads = await payloadsFor(await formEndpointId(form.id));
    expect(payloads).toHaveLength(1);
    const [payload] = payloads;
    expect(Object.keys(payload ?? {}).sort()).toEqual(formSubmittedKeys);
    expect(payload?.form_id).toBe(form.id);
    expect(payload?.form_name).toBe(form.name);
    expect(payload?.submission_id).toBe(result.submissionId);
    expect(payload?.submitted_at).toBe(ctx.clock.now().toISOString());
    expect(payload?.data).toEqual({ firstName: "Ann", email, message: "Hi" });
    expect(payload?.utm).toEqual({ source: "google", medium: "cpc" });
  });

  test("payload without UTM has empty utm", async () => {
    const form = await activeForm({ webhookUrl: hookUrl() });

    await submit(form.slug, { firstName: "Ann", email: uniqueAddress() });

    const [payload] = await payloadsFor(await formEndpointId(form.id));
    expect(payload?.utm).toEqual({});
  });

  test("endpoints get only subscribed events", async () => {
    const subscribed = await createEndpoint(ctx, { url: hookUrl(), eventTypes: ["form.submitted", "invoice.paid"] });
    const otherTypes = await createEndpoint(ctx, { url: hookUrl(), eventTypes: ["invoice.paid", "call.ended"] });
    const form = await activeForm({ webhookUrl: hookUrl() });
    const otherForm = await activeForm({ webhookUrl: hookUrl() });

    const result = await submit(form.slug, { firstName: "Ann", email: uniqueAddress() });

    const submissionIds = async (endpointId: string) =>
      (await payloadsFor(endpointId)).map((payload) => payload.submission_id);
    expect(await submissionIds(await formEndpointId(form.id))).toEqual([result.submissionId]);
    expect(await submissionIds(subscribed.id)).toContain(result.submissionId);
    expect(await deliveriesOf(ctx, otherTypes.id)).toHaveLength(0);
    expect(await deliveriesOf(ctx, await formEndpointId(otherForm.id))).toHaveLength(0);
  });

  test("one message for all endpoints", async () => {
    const subscribed = await createEndpoint(ctx, { url: hookUrl(), eventTypes: ["form.submitted"] });
    const form = await activeForm({ webhookUrl: hookUrl() });

    await submit(form.slug, { firstName: "Ann", email: uniqueAddress() });

    const [own] = await deliveriesOf(ctx, await formEndpointId(form.id));
    const shared = await ctx.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.endpointId, subscribed.id), eq(deliveries.messageId, own?.messageId ?? "")));
    expect(own?.status).toBe("pending");
    expect(shared).toHaveLength(1);
  });

  test("removed webhook URL gets nothing", async () => {
    const form = await activeForm({ webhookUrl: hookUrl() });
    await updateForm(ctx, form.id, { ...form.input, webhookUrl: null });

    await submit(form.slug, { firstName: "Ann", email: uniqueAddress() });

    expect(await deliveriesOf(ctx, await formEndpointId(form.id))).toHaveLength(0);
  });
});

describe("submitForm rate limit", () => {
  const rateLimit = { limit: 3, windowMs: 60_000 };

  /** Returns a documentation-range IPv6 address that no other test uses, because the limit counts per address. */
  function clientAddress(): string {
    const hex = crypto.randomUUID().replaceAll("-", "");
    return `2001:db8:${hex.slice(0, 4)}:${hex.slice(4, 8)}::${hex.slice(8, 12)}`;
  }

  async function submitFrom(slug: string, ipAddress: string | null) {
    return submit(slug, { firstName: "Ann", email: uniqueAddress() }, { ipAddress, rateLimit });
  }

  test("rejects the submission after the limit", async () => {
    const form = await activeForm();
    const ipAddress = clientAddress();
    ctx.clock.set(new Date("2026-03-02T09:00:20Z"));
    for (let index = 0; index < rateLimit.limit; index++) {
      await submitFrom(form.slug, ipAddress);
    }

    const error = await rejectionOf(submitFrom(form.slug, ipAddress));

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error instanceof RateLimitedError ? error.retryAfterSeconds : 0).toBe(40);

    expect(await submissionsOf(form.id)).toHaveLength(rateLimit.limit);
  });

  test("counts each address separately", async () => {
    const form = await activeForm();
    const limited = clientAddress();
    ctx.clock.set(new Date("2026-03-02T10:00:00Z"));
    for (let index = 0; index < rateLimit.limit; index++) {
      await submitFrom(form.slug, limited);
    }

    const other = await submitFrom(form.slug, clientAddress());

    expect(other.submissionId).toStartWith("sub_");
    expect(await rejectionOf(submitFrom(form.slug, limited))).toBeInstanceOf(RateLimitedError);
  });

  test("counts across forms", async () => {
    const first = await activeForm();
    const second = await activeForm();
    const ipAddress = clientAddress();
    ctx.clock.set(new Date("2026-03-02T11:00:00Z"));
    for (let index = 0; index < rateLimit.limit; index++) {
      await submitFrom(first.slug, ipAddress);
    }

    const error = await rejectionOf(submitFrom(second.slug, ipAddress));

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(await submissionsOf(second.id)).toHaveLength(0);
  });

  test("resets in the next window", async () => {
    const form = await activeForm();
    const ipAddress = clientAddress();
    ctx.clock.set(new Date("2026-03-02T12:00:59Z"));
    for (let index = 0; index < rateLimit.limit; index++) {
      await submitFrom(form.slug, ipAddress);
    }
    const limited = await rejectionOf(submitFrom(form.slug, ipAddress));
    ctx.clock.set(new Date("2026-03-02T12:01:00Z"));

    const result = await submitFrom(form.slug, ipAddress);

    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited instanceof RateLimitedError ? limited.retryAfterSeconds : 0).toBe(1);
    expect(result.submissionId).toStartWith("sub_");
    expect(await submissionsOf(form.id)).toHaveLength(rateLimit.limit + 1);
  });

  test("invalid submissions count too", async () => {
    const form = await activeForm();
    const ipAddress = clientAddress();
    ctx.clock.set(new Date("2026-03-02T13:00:00Z"));
    for (let index = 0; index < rateLimit.limit; index++) {
      await rejectionOf(submit(form.slug, {}, { ipAddress, rateLimit }));
    }

    const error = await rejectionOf(submitFrom(form.slug, ipAddress));

    expect(error).toBeInstanceOf(RateLimitedError);
  });

  test("unknown address is not limited", async () => {
    const form = await activeForm();
    ctx.clock.set(new Date("2026-03-02T14:00:00Z"));

    for (let index = 0; index < rateLimit.limit + 2; index++) {
      await submitFrom(form.slug, null);
    }

    expect(await submissionsOf(form.id)).toHaveLength(rateLimit.limit + 2);
  });
});
