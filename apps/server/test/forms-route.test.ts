import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  createForm,
  defaultDeliverySettings,
  type FormInput,
  type OutboundContext,
  SecretCipher,
  updateForm,
} from "@basalt/core";
import { formSubmissions, leads } from "@basalt/db";
import { eq, sql } from "drizzle-orm";
import { createTestServer, type ErrorBody, type TestServer } from "./support";

/** Submissions allowed per client address in the rate limit tests. */
const rateLimitPerAddress = 3;

let server: TestServer;
let admin: OutboundContext;

beforeAll(async () => {
  // A window of 2^40 ms (about 35 years) has its boundaries in 2004 and 2039, so no test run crosses one.
  server = await createTestServer({ formRateLimit: { limit: rateLimitPerAddress, windowMs: 2 ** 40 } });
  admin = {
    ...server.core,
    cipher: await SecretCipher.fromBase64(SecretCipher.generateKey()),
    http: { allowLoopback: true, timeoutMs: 5_000 },
    integrations: {
      resend: { apiUrl: "http://127.0.0.1:9", apiKey: undefined, from: undefined },
      mercury: { apiUrl: "http://127.0.0.1:9", apiToken: undefined },
      openai: { apiUrl: "http://127.0.0.1:9", apiKey: undefined },
    },
    deliverySettings: defaultDeliverySettings,
  };
});

afterAll(async () => {
  await server.database.destroy();
});

interface FieldErrorBody {
  error: { code: string; message: string; requestId: string; fields: Record<string, string> };
}

function address(local: string): string {
  return [local, "example.com"].join("@");
}

/** Returns a documentation-range IPv6 address that no other test uses, because the rate limit counts per address. */
function uniqueClientAddress(): string {
  const hex = crypto.randomUUID().replaceAll("-", "");
  return `2001:db8:${hex.slice(0, 4)}:${hex.slice(4, 8)}::${hex.slice(8, 12)}`;
}

function uniqueAddress(): string {
  return address(`visitor.${crypto.randomUUID().slice(0, 8)}`);
}

/** Creates a contact form with a unique slug. It is active unless an override sets another status. */
async function contactForm(overrides: Partial<FormInput> = {}) {
  const input: FormInput = {
    name: "Contact Us",
    slug: `contact-${crypto.randomUUID()}`,
    status: "ACTIVE",
    fields: [
      { name: "firstName", label: "First name", type: "text", required: true, leadField: "firstName" },
      { name: "email", label: "Email", type: "email", required: true, leadField: "email" },
      { name: "seats", label: "Seats", type: "number" },
      { name: "consent", label: "I agree to be contacted", type: "checkbox" },
      { name: "interests", label: "Interests", type: "text" },
      { name: "message", label: "Message", type: "textarea" },
    ],
    ...overrides,
  };
  const saved = await createForm(admin, input);
  return { id: saved.id, slug: input.slug, input };
}

function postJson(slug: string, body: unknown, headers: Record<string, string> = {}, query = "") {
  return server.request(`/api/forms/${slug}/submissions${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function postForm(slug: string, body: string, headers: Record<string, string> = {}, query = "") {
  return server.request(`/api/forms/${slug}/submissions${query}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

async function submissionsOf(formId: string) {
  return server.database.db.select().from(formSubmissions).where(eq(formSubmissions.formId, formId));
}

async function readSubmission(id: string) {
  const [submission] = await server.database.db.select().from(formSubmissions).where(eq(formSubmissions.id, id));
  return submission;
}

async function leadsWithEmail(email: string) {
  return server.database.db
    .select()
    .from(leads)
    .where(eq(sql`lower(${leads.email})`, email.toLowerCase()));
}

async function submissionIdOf(response: Response): Promise<string> {
  const body = (await response.json()) as { received: boolean; submission_id?: string };
  expect(body.received).toBe(true);
  return body.submission_id ?? "";
}

describe("form submission bodies", () => {
  test("JSON body is stored", async () => {
    const form = await contactForm();
    const email = uniqueAddress();

    const response = await postJson(
      form.slug,
      { firstName: "Ann", email, message: "Hello" },
      { "user-agent": "Mozilla/5.0 (Test)", "x-test-client-address": "203.0.113.50" },
    );

    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/json");
    const submissionId = await submissionIdOf(response);
    expect(submissionId).toStartWith("sub_");

    const submission = await readSubmission(submissionId);
    expect(submission?.formId).toBe(form.id);
    expect(submission?.data).toEqual({ firstName: "Ann", email, message: "Hello" });
    expect(submission?.ipAddress).toBe("203.0.113.50");
    expect(submission?.userAgent).toBe("Mozilla/5.0 (Test)");
    expect(await leadsWithEmail(email)).toHaveLength(1);
  });

  test("form-encoded body is stored", async () => {
    const form = await contactForm();
    const email = uniqueAddress();
    const body = new URLSearchParams({ firstName: "Zoë", email, message: "Line one\nLine two & more" }).toString();

    const response = await postForm(form.slug, body, {
      "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
    });

    expect(response.status).toBe(201);
    const submission = await readSubmission(await submissionIdOf(response));
    expect(submission?.data).toEqual({ firstName: "Zoë", email, message: "Line one\nLine two & more" });
  });

  test("JSON array is 400", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, [{ firstName: "Ann" }]);

    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_request");
    expect(await submissionsOf(form.id)).toHaveLength(0);
  });

  const notJsonBodies = [
    { case: "plain text", body: "firstName=Ann but not encoded", contentType: "text/plain" },
    { case: "truncated JSON", body: '{"firstName": "Ann"', contentType: "application/json" },
    { case: "empty body", body: "", contentType: "application/json" },
    { case: "JSON string", body: '"Ann"', contentType: "application/json" },
    { case: "JSON null", body: "null", contentType: "application/json" },
  ];

  for (const { case: name, body, contentType } of notJsonBodies) {
    test(`${name} is 400`, async () => {
      const form = await contactForm();

      const response = await postJson(form.slug, body, { "content-type": contentType });

      expect(response.status).toBe(400);
      const responseBody = (await response.json()) as ErrorBody;
      expect(responseBody.error.code).toBe("invalid_request");
      expect(responseBody.error.message).toContain("JSON object");
      expect(await submissionsOf(form.id)).toHaveLength(0);
    });
  }

  test("body over 64 KiB is 413", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, { firstName: "Ann", message: "x".repeat(65 * 1024) });

    expect(response.status).toBe(413);
    expect(((await response.json()) as ErrorBody).error.code).toBe("payload_too_large");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(await submissionsOf(form.id)).toHaveLength(0);
  });

  test("declared length over limit is 413", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, "{}", { "content-length": String(64 * 1024 + 1) });

    expect(response.status).toBe(413);
    expect(await submissionsOf(form.id)).toHaveLength(0);
  });
});

describe("form submission JSON values", () => {
  test("numbers, booleans and arrays become text", async () => {
    const form = await contactForm();
    const email = uniqueAddress();

    const response = await postJson(form.slug, {
      firstName: "Ann",
      email,
      seats: 25,
      consent: true,
      interests: ["billing", "voice", 3],
    });

    expect(response.status).toBe(201);
    const submission = await readSubmission(await submissionIdOf(response));
    expect(submission?.data).toEqual({
      firstName: "Ann",
      email,
      seats: "25",
      consent: "true",
      interests: "billing, voice, 3",
    });
  });

  test("null, objects and false are dropped", async () => {
    const form = await contactForm();
    const email = uniqueAddress();

    const response = await postJson(form.slug, {
      firstName: "Ann",
      email,
      seats: null,
      consent: false,
      message: { text: "nested" },
      interests: [{ nested: true }, null],
    });

    expect(response.status).toBe(201);
    const submission = await readSubmission(await submissionIdOf(response));
    expect(submission?.data).toEqual({ firstName: "Ann", email });
  });

  test("false leaves a required checkbox unticked", async () => {
    const form = await contactForm({
      fields: [{ name: "consent", label: "I agree to be contacted", type: "checkbox", required: true }],
    });

    const response = await postJson(form.slug, { consent: false });

    expect(response.status).toBe(400);
    const responseBody = (await response.json()) as FieldErrorBody;
    expect(responseBody.error.fields.consent).toBe("I agree to be contacted is required");
    expect(await submissionsOf(form.id)).toHaveLength(0);
  });

  test("number in text field accepted", async () => {
    const form = await contactForm();
    const email = uniqueAddress();

    const response = await postJson(form.slug, { firstName: 42, email });

    expect(response.status).toBe(201);
    expect((await readSubmission(await submissionIdOf(response)))?.data.firstName).toBe("42");
  });
});

describe("form submission unstorable text", () => {
  const cases = [
    { case: "NUL in JSON value", body: '{"firstName":"Ann\\u0000","email":"EMAIL"}', field: "firstName" },
    { case: "lone surrogate in JSON value", body: '{"firstName":"Ann \\ud800","email":"EMAIL"}', field: "firstName" },
    {
      case: "lone surrogate in array",
      body: '{"firstName":"Ann","email":"EMAIL","interests":["\\udfff"]}',
      field: "interests",
    },
    { case: "NUL in UTM", body: '{"firstName":"Ann","email":"EMAIL","utm_source":"g\\u0000"}', field: "utm_source" },
    {
      case: "lone surrogate in UTM",
      body: '{"firstName":"Ann","email":"EMAIL","utm_term":"\\udbff"}',
      field: "utm_term",
    },
  ];

  for (const { case: name, body, field } of cases) {
    test(`${name} is 400`, async () => {
      const form = await contactForm();

      const response = await postJson(form.slug, body.replace("EMAIL", uniqueAddress()));

      expect(response.status).toBe(400);
      const responseBody = (await response.json()) as FieldErrorBody;
      expect(responseBody.error.code).toBe("invalid_request");
      expect(responseBody.error.fields[field]).toContain("cannot be stored");
      expect(await submissionsOf(form.id)).toHaveLength(0);
    });
  }

  test("NUL in form-encoded value is 400", async () => {
    const form = await contactForm();

    const response = await postForm(form.slug, `firstName=Ann%00&email=${encodeURIComponent(uniqueAddress())}`);

    expect(response.status).toBe(400);
    expect(((await response.json()) as FieldErrorBody).error.fields.firstName).toContain("cannot be stored");
  });

  test("NUL in query UTM is 400", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, { firstName: "Ann", email: uniqueAddress() }, {}, "?utm_source=a%00b");

    expect(response.status).toBe(400);
    expect(((await response.json()) as FieldErrorBody).error.fields.utm_source).toContain("cannot be stored");
  });

  test("unstorable unknown field is dropped", async () => {
    const form = await contactForm();
    const email = uniqueAddress();

    const response = await postJson(form.slug, `{"firstName":"Ann","email":"${email}","\\u0000x":"\\ud800"}`);

    expect(response.status).toBe(201);
    expect((await readSubmission(await submissionIdOf(response)))?.data).toEqual({ firstName: "Ann", email });
  });

  test("invalid UTF-8 is stored replaced", async () => {
    const form = await contactForm();
    const email = uniqueAddress();
    const prefix = new TextEncoder().encode(`{"firstName":"Ann`);
    const suffix = new TextEncoder().encode(`","email":"${email}"}`);
    const body = new Uint8Array([...prefix, 0xff, 0xfe, ...suffix]);

    const response = await server.request(`/api/forms/${form.slug}/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

    expect(response.status).toBe(201);
    expect((await readSubmission(await submissionIdOf(response)))?.data.firstName).toBe("Ann\ufffd\ufffd");
  });
});

describe("form submission UTM", () => {
  test("UTM from JSON body", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, {
      firstName: "Ann",
      email: uniqueAddress(),
      utm_source: "google",
      utm_medium: "cpc",
      utm_campaign: "spring_2026",
      utm_term: "crm",
      utm_content: "hero",
    });

    expect(response.status).toBe(201);
    const submission = await readSubmission(await submissionIdOf(response));
    expect(submission?.utm).toEqual({
      source: "google",
      medium: "cpc",
      campaign: "spring_2026",
      term: "crm",
      content: "hero",
    });
    expect(Object.keys(submission?.data ?? {}).some((name) => name.startsWith("utm_"))).toBe(false);
  });

  test("UTM from the query string", async () => {
    const form = await contactForm();
    const body = new URLSearchParams({ firstName: "Ann", email: uniqueAddress() }).toString();

    const response = await postForm(form.slug, body, {}, "?utm_source=newsletter&utm_medium=email&utm_id=7");

    expect(response.status).toBe(201);
    expect((await readSubmission(await submissionIdOf(response)))?.utm).toEqual({
      source: "newsletter",
      medium: "email",
    });
  });

  test("body UTM wins, empty falls back", async () => {
    const form = await contactForm();

    const response = await postJson(
      form.slug,
      { firstName: "Ann", email: uniqueAddress(), utm_source: "body", utm_medium: "" },
      {},
      "?utm_source=query&utm_medium=social",
    );

    expect(response.status).toBe(201);
    expect((await readSubmission(await submissionIdOf(response)))?.utm).toEqual({ source: "body", medium: "social" });
  });

  test("long UTM is cut to 200", async () => {
    const form = await contactForm();
    const campaign = `x${"🚀".repeat(150)}`;

    const response = await postJson(form.slug, { firstName: "Ann", email: uniqueAddress(), utm_campaign: campaign });

    expect(response.status).toBe(201);
    const stored = (await readSubmission(await submissionIdOf(response)))?.utm.campaign ?? "";
    expect(stored.length).toBeGreaterThan(190);
    expect(stored.length).toBeLessThanOrEqual(200);
    expect(stored.isWellFormed()).toBe(true);
  });
});

describe("form submission CORS", () => {
  test("preflight is 204 for any origin", async () => {
    const form = await contactForm();

    const response = await server.request(`/api/forms/${form.slug}/submissions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://customer.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toContain("content-type");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("responses carry the CORS header", async () => {
    const form = await contactForm();
    const paused = await contactForm({ status: "PAUSED" });
    const limitedAddress = uniqueClientAddress();
    const valid = () => ({ firstName: "Ann", email: uniqueAddress() });
    for (let index = 0; index < rateLimitPerAddress; index++) {
      await postJson(form.slug, valid(), { "x-test-client-address": limitedAddress });
    }
    const responses = [
      { status: 201, response: await postJson(form.slug, valid()) },
      { status: 400, response: await postJson(form.slug, { firstName: "Ann" }) },
      { status: 404, response: await postJson(paused.slug, valid()) },
      { status: 429, response: await postJson(form.slug, valid(), { "x-test-client-address": limitedAddress }) },
    ];

    for (const { status, response } of responses) {
      expect(response.status).toBe(status);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
    }
  });

  test("Retry-After is exposed to scripts", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, { firstName: "Ann", email: uniqueAddress() });

    const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    expect(exposed).toContain("retry-after");
    expect(exposed).toContain("x-request-id");
  });
});

describe("form submission outcomes", () => {
  test("honeypot filled is 201, stores nothing", async () => {
    const form = await contactForm();
    const email = uniqueAddress();

    const response = await postForm(
      form.slug,
      new URLSearchParams({ firstName: "Bot", email, _gotcha: "x" }).toString(),
    );

    expect(response.status).toBe(201);
    expect(((await response.json()) as { received: boolean }).received).toBe(true);
    expect(await submissionsOf(form.id)).toHaveLength(0);
    expect(await leadsWithEmail(email)).toHaveLength(0);
  });

  test("empty honeypot is accepted", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, { firstName: "Ann", email: uniqueAddress(), _gotcha: "" });

    expect(response.status).toBe(201);
    const submission = await readSubmission(await submissionIdOf(response));
    expect(Object.keys(submission?.data ?? {})).not.toContain("_gotcha");
  });

  test("field errors listed under error.fields", async () => {
    const form = await contactForm();

    const response = await postJson(form.slug, { email: "not-an-email", seats: "a few" });

    expect(response.status).toBe(400);
    const responseBody = (await response.json()) as FieldErrorBody;
    expect(responseBody.error.code).toBe("invalid_request");
    expect(responseBody.error.requestId).toBe(response.headers.get("x-request-id") ?? "");
    expect(responseBody.error.fields).toEqual({
      firstName: "First name is required",
      email: "Email must be an email address",
      seats: "Seats must be a number",
    });
    expect(responseBody.error.message).toContain("firstName");
    expect(await submissionsOf(form.id)).toHaveLength(0);
  });

  test("unknown form is 404", async () => {
    const response = await postJson(`missing-${crypto.randomUUID()}`, { firstName: "Ann" });

    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.code).toBe("not_found");
  });

  const malformedSlugs = [
    { case: "NUL character", slug: "contact%00" },
    { case: "encoded lone surrogate", slug: "contact-%ED%A0%80" },
    { case: "invalid UTF-8", slug: "contact-%FF" },
    { case: "broken percent escape", slug: "contact-%" },
    { case: "encoded slash", slug: "contact%2Fus" },
    { case: "very long slug", slug: "a".repeat(5_000) },
  ];

  for (const { case: name, slug } of malformedSlugs) {
    test(`slug with ${name} is 404`, async () => {
      const response = await postJson(slug, { firstName: "Ann", email: uniqueAddress() });

      expect(response.status).toBe(404);
      const responseBody = (await response.json()) as ErrorBody;
      expect(responseBody.error.code).toBe("not_found");
      expect(responseBody.error.message).not.toContain("null");
    });
  }

  for (const status of ["DRAFT", "PAUSED", "ARCHIVED"] as const) {
    test(`${status} form is 404`, async () => {
      const form = await contactForm({ status });

      const response = await postJson(form.slug, { firstName: "Ann", email: uniqueAddress() });

      expect(response.status).toBe(404);
      expect(((await response.json()) as ErrorBody).error.code).toBe("not_found");
      expect(await submissionsOf(form.id)).toHaveLength(0);
    });
  }

  test("paused form accepts after activation", async () => {
    const form = await contactForm({ status: "PAUSED" });
    await updateForm(admin, form.id, { ...form.input, status: "ACTIVE" });

    const response = await postJson(form.slug, { firstName: "Ann", email: uniqueAddress() });

    expect(response.status).toBe(201);
    expect(await submissionsOf(form.id)).toHaveLength(1);
  });

  test("over limit is 429 with Retry-After", async () => {
    const form = await contactForm();
    const clientAddress = uniqueClientAddress();
    const valid = () => ({ firstName: "Ann", email: uniqueAddress() });
    for (let index = 0; index < rateLimitPerAddress; index++) {
      const accepted = await postJson(form.slug, valid(), { "x-test-client-address": clientAddress });
      expect(accepted.status).toBe(201);
    }

    const response = await postJson(form.slug, valid(), { "x-test-client-address": clientAddress });

    expect(response.status).toBe(429);
    expect(((await response.json()) as ErrorBody).error.code).toBe("rate_limited");
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(Number.isSafeInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(await submissionsOf(form.id)).toHaveLength(rateLimitPerAddress);

    const other = await postJson(form.slug, valid(), { "x-test-client-address": uniqueClientAddress() });
    expect(other.status).toBe(201);
  });
});
