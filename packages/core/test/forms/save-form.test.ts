import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { endpointSecrets, forms, webhookEndpoints } from "@basalt/db";
import { eq } from "drizzle-orm";
import {
  ConflictError,
  createForm,
  type FormInput,
  InvalidInputError,
  NotFoundError,
  secretFingerprint,
  updateForm,
} from "../../src";
import { createOutboundContext, type OutboundTestContext } from "../outbound/support";

let ctx: OutboundTestContext;

beforeAll(async () => {
  ctx = await createOutboundContext();
});

afterAll(async () => {
  await ctx.base.database.destroy();
});

/** Returns a valid contact form with a fresh slug. Each override replaces a whole top-level property. */
function contactForm(overrides: Partial<FormInput> = {}): FormInput {
  return {
    name: "Contact Us",
    slug: `contact-${crypto.randomUUID()}`,
    status: "ACTIVE",
    fields: [
      { name: "firstName", label: "First name", type: "text", required: true, leadField: "firstName" },
      { name: "email", label: "Email", type: "email", required: true, leadField: "email" },
      { name: "message", label: "Message", type: "textarea" },
    ],
    ...overrides,
  };
}

/** Returns a loopback URL on the discard port. Nothing in this file drains deliveries, so nothing is sent to it. */
function hookUrl(): string {
  return `https://127.0.0.1:9/forms/${crypto.randomUUID()}`;
}

function address(local: string): string {
  return [local, "example.com"].join("@");
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

async function readForm(id: string) {
  const [form] = await ctx.db.select().from(forms).where(eq(forms.id, id));
  return form;
}

async function formEndpoints(formId: string) {
  return ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.formId, formId));
}

async function formsWithSlug(slug: string) {
  return ctx.db.select().from(forms).where(eq(forms.slug, slug));
}

describe("createForm validation", () => {
  const invalidForms: { case: string; input: FormInput; expected: string[] }[] = [
    {
      case: "slug with spaces and capitals",
      input: contactForm({ slug: "Contact Us" }),
      expected: ["slug:", "lower-case"],
    },
    {
      case: "slug with a trailing dash",
      input: contactForm({ slug: "contact-" }),
      expected: ["slug:"],
    },
    {
      case: "duplicate field names",
      input: contactForm({
        fields: [
          { name: "email", label: "Email", type: "email" },
          { name: "message", label: "Message", type: "textarea" },
          { name: "email", label: "Work email", type: "email" },
        ],
      }),
      expected: ["fields.2.name:", "email"],
    },
    {
      case: "select without options",
      input: contactForm({
        fields: [
          { name: "email", label: "Email", type: "email" },
          { name: "plan", label: "Plan", type: "select" },
        ],
      }),
      expected: ["fields.1.options:", "plan"],
    },
    {
      case: "two fields mapped to email",
      input: contactForm({
        fields: [
          { name: "email", label: "Email", type: "email", leadField: "email" },
          { name: "workEmail", label: "Work email", type: "email", leadField: "email" },
        ],
      }),
      expected: ["fields.1.leadField:", "email", "workEmail"],
    },
    {
      case: "invalid notify email",
      input: contactForm({ notifyEmails: [address("sales"), "sales@"] }),
      expected: ["notifyEmails.1:", "sales@"],
    },
    {
      case: "field name starting with a digit",
      input: contactForm({ fields: [{ name: "1st", label: "First", type: "text" }] }),
      expected: ["fields.0.name:"],
    },
    {
      case: "no fields",
      input: contactForm({ fields: [] }),
      expected: ["fields:"],
    },
  ];

  for (const invalid of invalidForms) {
    test(`rejects ${invalid.case}`, async () => {
      const error = await rejectionOf(createForm(ctx, invalid.input));

      expect(error).toBeInstanceOf(InvalidInputError);
      for (const fragment of invalid.expected) {
        expect(error.message).toContain(fragment);
      }

      expect(await formsWithSlug(invalid.input.slug)).toHaveLength(0);
    });
  }

  test("http webhookUrl rejected naming HTTPS", async () => {
    const input = contactForm({ webhookUrl: "http://127.0.0.1:9/forms" });

    const error = await rejectionOf(createForm(ctx, input));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain("webhookUrl");
    expect(error.message).toContain("HTTPS");

    expect(await formsWithSlug(input.slug)).toHaveLength(0);
  });

  test("private-address webhookUrl rejected", async () => {
    const input = contactForm({ webhookUrl: "https://10.0.0.5/forms" });

    const error = await rejectionOf(createForm(ctx, input));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain("webhookUrl");

    expect(await formsWithSlug(input.slug)).toHaveLength(0);
  });
});

describe("createForm", () => {
  test("stores defaults for omitted settings", async () => {
    const input = contactForm();

    const saved = await createForm(ctx, input);

    expect(saved.webhookSecret).toBeNull();
    const form = await readForm(saved.id);
    expect(form?.slug).toBe(input.slug);
    expect(form?.status).toBe("ACTIVE");
    expect(form?.notifyEmails).toEqual([]);
    expect(form?.autoRespondEnabled).toBe(false);
    expect(form?.webhookUrl).toBeNull();
    expect(form?.fields[2]).toEqual({
      name: "message",
      label: "Message",
      type: "textarea",
      required: false,
      leadField: null,
    });
    expect(await formEndpoints(saved.id)).toHaveLength(0);
  });

  test("duplicate slug is ConflictError", async () => {
    const first = await createForm(ctx, contactForm());
    const firstForm = await readForm(first.id);
    const input = contactForm({ slug: firstForm?.slug ?? "", name: "Another form" });

    const error = await rejectionOf(createForm(ctx, input));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(input.slug);

    const stored = await formsWithSlug(input.slug);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(first.id);
  });

  test("concurrent same slug gives conflicts", async () => {
    const slug = `race-${crypto.randomUUID()}`;

    // Eight at once, so on real Postgres several pass the check before the first insert commits.
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => createForm(ctx, contactForm({ slug }))));

    const created = outcomes.filter((outcome) => outcome.status === "fulfilled");
    const rejected = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
    expect(created).toHaveLength(1);
    expect(rejected).toHaveLength(7);
    for (const reason of rejected) {
      expect(reason).toBeInstanceOf(ConflictError);
    }

    expect(await formsWithSlug(slug)).toHaveLength(1);
  });

  test("webhookUrl creates the form's endpoint", async () => {
    const url = hookUrl();

    const saved = await createForm(ctx, contactForm({ webhookUrl: url }));

    expect(saved.webhookSecret).toStartWith("whsec_");
    const endpoints = await formEndpoints(saved.id);
    expect(endpoints).toHaveLength(1);
    const [endpoint] = endpoints;
    expect(endpoint?.url).toBe(url);
    expect(endpoint?.eventTypes).toEqual(["form.submitted"]);
    expect(endpoint?.enabled).toBe(true);
    expect((await readForm(saved.id))?.webhookUrl).toBe(url);

    const secrets = await ctx.db
      .select()
      .from(endpointSecrets)
      .where(eq(endpointSecrets.endpointId, endpoint?.id ?? ""));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.fingerprint).toBe(secretFingerprint(saved.webhookSecret ?? ""));
  });

  test("each form gets its own secret", async () => {
    const first = await createForm(ctx, contactForm({ webhookUrl: hookUrl() }));
    const second = await createForm(ctx, contactForm({ webhookUrl: hookUrl() }));

    expect(first.webhookSecret).not.toBeNull();
    expect(second.webhookSecret).not.toBeNull();
    expect(first.webhookSecret).not.toBe(second.webhookSecret);
  });
});

describe("updateForm", () => {
  test("replaces the form's definition", async () => {
    const saved = await createForm(ctx, contactForm());
    const input = contactForm({ name: "Demo request", status: "PAUSED", notifyEmails: [address("sales")] });

    const updated = await updateForm(ctx, saved.id, input);

    expect(updated.id).toBe(saved.id);
    expect(updated.webhookSecret).toBeNull();
    const form = await readForm(saved.id);
    expect(form?.name).toBe("Demo request");
    expect(form?.slug).toBe(input.slug);
    expect(form?.status).toBe("PAUSED");
    expect(form?.notifyEmails).toEqual([address("sales")]);
  });

  test("unknown id is NotFoundError", async () => {
    const input = contactForm();

    const error = await rejectionOf(updateForm(ctx, "form_missing", input));

    expect(error).toBeInstanceOf(NotFoundError);

    expect(await formsWithSlug(input.slug)).toHaveLength(0);
  });

  test("another form's slug is ConflictError", async () => {
    const other = await createForm(ctx, contactForm());
    const takenSlug = (await readForm(other.id))?.slug ?? "";
    const saved = await createForm(ctx, contactForm());
    const ownSlug = (await readForm(saved.id))?.slug;

    const error = await rejectionOf(updateForm(ctx, saved.id, contactForm({ slug: takenSlug })));

    expect(error).toBeInstanceOf(ConflictError);

    expect((await readForm(saved.id))?.slug).toBe(ownSlug);
  });

  test("invalid input changes nothing", async () => {
    const saved = await createForm(ctx, contactForm({ name: "Original" }));

    const error = await rejectionOf(updateForm(ctx, saved.id, contactForm({ name: "Changed", slug: "Bad Slug" })));

    expect(error).toBeInstanceOf(InvalidInputError);

    expect((await readForm(saved.id))?.name).toBe("Original");
  });

  test("first webhookUrl creates endpoint and secret", async () => {
    const input = contactForm();
    const saved = await createForm(ctx, input);
    const url = hookUrl();

    const updated = await updateForm(ctx, saved.id, { ...input, webhookUrl: url });

    expect(updated.webhookSecret).toStartWith("whsec_");
    const endpoints = await formEndpoints(saved.id);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]?.url).toBe(url);
    expect(endpoints[0]?.eventTypes).toEqual(["form.submitted"]);
  });

  test("concurrent first URLs create one endpoint", async () => {
    const input = contactForm();
    const saved = await createForm(ctx, input);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => updateForm(ctx, saved.id, { ...input, webhookUrl: hookUrl() })),
    );

    const rejected = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
    expect(rejected).toEqual([]);
    const secrets = outcomes.flatMap((outcome) =>
      outcome.status === "fulfilled" && outcome.value.webhookSecret !== null ? [outcome.value.webhookSecret] : [],
    );
    expect(secrets).toHaveLength(1);

    expect(await formEndpoints(saved.id)).toHaveLength(1);
  });

  test("changed URL updates the same endpoint", async () => {
    const input = contactForm({ webhookUrl: hookUrl() });
    const saved = await createForm(ctx, input);
    const [before] = await formEndpoints(saved.id);
    const url = hookUrl();

    const updated = await updateForm(ctx, saved.id, { ...input, webhookUrl: url });

    expect(updated.webhookSecret).toBeNull();
    const endpoints = await formEndpoints(saved.id);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]?.id).toBe(before?.id ?? "");
    expect(endpoints[0]?.url).toBe(url);
    expect(endpoints[0]?.enabled).toBe(true);
    expect((await readForm(saved.id))?.webhookUrl).toBe(url);
  });

  test("http URL on update is rejected", async () => {
    const url = hookUrl();
    const input = contactForm({ webhookUrl: url });
    const saved = await createForm(ctx, input);

    const error = await rejectionOf(updateForm(ctx, saved.id, { ...input, webhookUrl: "http://127.0.0.1:9/forms" }));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain("HTTPS");

    expect((await formEndpoints(saved.id))[0]?.url).toBe(url);
    expect((await readForm(saved.id))?.webhookUrl).toBe(url);
  });

  test("removed URL disables the endpoint", async () => {
    const input = contactForm({ webhookUrl: hookUrl() });
    const saved = await createForm(ctx, input);

    await updateForm(ctx, saved.id, { ...input, webhookUrl: null });

    const [endpoint] = await formEndpoints(saved.id);
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toContain("webhook URL was removed");
    expect(endpoint?.disabledAt).toEqual(ctx.clock.now());
    expect((await readForm(saved.id))?.webhookUrl).toBeNull();
  });

  test("restored URL enables the old endpoint", async () => {
    const input = contactForm({ webhookUrl: hookUrl() });
    const saved = await createForm(ctx, input);
    await updateForm(ctx, saved.id, { ...input, webhookUrl: null });
    const url = hookUrl();

    const restored = await updateForm(ctx, saved.id, { ...input, webhookUrl: url });

    expect(restored.webhookSecret).toBeNull();
    const endpoints = await formEndpoints(saved.id);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]?.enabled).toBe(true);
    expect(endpoints[0]?.disabledReason).toBeNull();
    expect(endpoints[0]?.disabledAt).toBeNull();
    expect(endpoints[0]?.url).toBe(url);
  });

  test("new URL clears failure run", async () => {
    const input = contactForm({ webhookUrl: hookUrl() });
    const saved = await createForm(ctx, input);
    const sixDaysAgo = new Date(ctx.clock.now().getTime() - 6 * 86_400_000);
    await ctx.db
      .update(webhookEndpoints)
      .set({
        enabled: false,
        disabledReason: "every delivery failed",
        disabledAt: ctx.clock.now(),
        failingSince: sixDaysAgo,
      })
      .where(eq(webhookEndpoints.formId, saved.id));

    await updateForm(ctx, saved.id, { ...input, webhookUrl: hookUrl() });

    const [endpoint] = await formEndpoints(saved.id);
    expect(endpoint?.enabled).toBe(true);
    expect(endpoint?.disabledReason).toBeNull();
    expect(endpoint?.failingSince).toBeNull();
  });

  test("same URL keeps disabled endpoint off", async () => {
    const input = contactForm({ webhookUrl: hookUrl() });
    const saved = await createForm(ctx, input);
    await ctx.db
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: "the endpoint responded 410 Gone", disabledAt: ctx.clock.now() })
      .where(eq(webhookEndpoints.formId, saved.id));

    await updateForm(ctx, saved.id, { ...input, name: "Renamed" });

    const [endpoint] = await formEndpoints(saved.id);
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toBe("the endpoint responded 410 Gone");
    expect((await readForm(saved.id))?.name).toBe("Renamed");
  });
});
