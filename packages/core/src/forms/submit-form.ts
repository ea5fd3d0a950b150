import { type FormField, formSubmissions, forms, type LeadFieldMapping } from "@basalt/db";
import { eq } from "drizzle-orm";
import type { CoreContext } from "../context";
import { addLeadActivity } from "../crm/activities";
import { NotFoundError, RateLimitedError } from "../errors";
import { newId } from "../ids";
import type { EmailJob } from "../outbound/executors/resend-executor";
import { Outbox } from "../outbound/outbox/outbox";
import { isFormSlug } from "./form-input";
import { consumeRateLimit, type RateLimit } from "./rate-limit";
import { upsertLeadFromForm } from "./upsert-lead";
import { validateSubmission, validateUtm } from "./validate-submission";

export { utmParameters } from "./validate-submission";

export interface SubmitFormInput {
  readonly slug: string;
  /** Submitted values by field name, from a JSON or form-encoded body. */
  readonly values: Readonly<Record<string, string>>;
  /** `utm_*` parameters from the body or the query string, keyed by name without the prefix. Other keys are ignored. */
  readonly utm: Readonly<Record<string, string>>;
  /** The client's address, the key of the per-IP rate limit; null when it is unknown. */
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly rateLimit: RateLimit;
}

export interface SubmitFormResult {
  readonly submissionId: string;
  readonly leadId: string | null;
}

/**
 * Accepts a submission of an active form: checks the per-IP rate limit and the fields, stores the
 * submission with its UTM parameters, creates or updates the lead from the mapped fields, and queues the
 * auto-respond email, the notification emails and the `form.submitted` webhook, all in one transaction.
 */
export async function submitForm(ctx: CoreContext, input: SubmitFormInput): Promise<SubmitFormResult> {
  const now = ctx.clock.now();
  // A string that cannot be a slug is not looked up: Postgres rejects one with a NUL character.
  const [form] = isFormSlug(input.slug) ? await ctx.db.select().from(forms).where(eq(forms.slug, input.slug)) : [];
  if (form?.status !== "ACTIVE") {
    throw new NotFoundError(`form ${input.slug} not found or not accepting submissions`);
  }
  if (input.ipAddress !== null) {
    const limit = await consumeRateLimit(ctx.db, `form:${input.ipAddress}`, input.rateLimit, now);
    if (!limit.allowed) {
      throw new RateLimitedError(
        `Too many submissions from ${input.ipAddress}; try again in ${limit.retryAfterSeconds} seconds.`,
        limit.retryAfterSeconds,
      );
    }
  }
  const data = validateSubmission(form.fields, input.values);
  const utm = validateUtm(input.utm);

  const submissionId = newId("sub");
  let queued = 0;
  const lead = await ctx.db.transaction(async (tx) => {
    const upserted = await upsertLeadFromForm(tx, mappedLeadValues(form.fields, data), now);
    await tx.insert(formSubmissions).values({
      id: submissionId,
      formId: form.id,
      data,
      utm,
      leadId: upserted?.leadId ?? null,
      ipAddress: input.ipAddress,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      submittedAt: now,
    });
    if (upserted) {
      await addLeadActivity(tx, {
        leadId: upserted.leadId,
        kind: "form.submitted",
        summary: `Submitted form ${form.name}`,
        occurredAt: now,
        data: { formId: form.id, submissionId, leadCreated: upserted.created },
      });
    }

    const outbox = new Outbox(tx, now);
    const emailField = form.fields.find((field) => field.leadField === "email");
    const respondTo = emailField === undefined ? undefined : submittedValue(data, emailField.name);
    if (form.autoRespondEnabled && respondTo) {
      const email: EmailJob = {
        to: respondTo,
        subject: form.autoRespondSubject ?? `Thank you for contacting us`,
        text: form.autoRespondBody ?? "We received your message and will get back to you soon.",
        leadId: upserted?.leadId ?? null,
        kind: "auto_respond",
      };
      await outbox.queueIntegration("resend_email", email);
    }
    for (const address of form.notifyEmails) {
      const email: EmailJob = {
        to: address,
        subject: `New submission: ${form.name}`,
        text: notificationText(form.name, form.fields, data, utm),
        leadId: upserted?.leadId ?? null,
        kind: "notification",
        replyTo: respondTo ?? null,
      };
      await outbox.queueIntegration("resend_email", email);
    }
    // The public developer page fixes this payload: exactly these six keys.
    await outbox.recordEvent(
      "form.submitted",
      {
        form_id: form.id,
        form_name: form.name,
        submission_id: submissionId,
        submitted_at: now.toISOString(),
        data,
        utm,
      },
      { formId: form.id },
    );
    queued = outbox.queued;
    return upserted;
  });

  if (queued > 0) {
    ctx.onDeliveriesQueued?.();
  }
  ctx.logger.info({ form_id: form.id, submission_id: submissionId, lead_id: lead?.leadId }, "form submitted");
  return { submissionId, leadId: lead?.leadId ?? null };
}

function mappedLeadValues(
  fields: readonly FormField[],
  data: Record<string, string>,
): Partial<Record<LeadFieldMapping, string>> {
  const values: Partial<Record<LeadFieldMapping, string>> = {};
  for (const field of fields) {
    const value = submittedValue(data, field.name);
    if (field.leadField !== null && value !== undefined) {
      values[field.leadField] = value;
    }
  }
  return values;
}

function notificationText(
  formName: string,
  fields: readonly FormField[],
  data: Record<string, string>,
  utm: Record<string, string>,
): string {
  const lines = fields.flatMap((field) => {
    const value = submittedValue(data, field.name);
    return value === undefined ? [] : [`${field.label}: ${value}`];
  });
  const campaign = Object.entries(utm).map(([name, value]) => `utm_${name}: ${value}`);
  return [`A new submission of ${formName}:`, "", ...lines, ...(campaign.length > 0 ? ["", ...campaign] : [])].join(
    "\n",
  );
}

/** Reads an own property only, so a field named `constructor` or `toString` never reads Object.prototype. */
function submittedValue(data: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(data, name) ? data[name] : undefined;
}
