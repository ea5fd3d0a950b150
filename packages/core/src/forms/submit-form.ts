import { type FormField, formSubmissions, forms, type LeadFieldMapping } from "@basalt/db";
import { eq } from "drizzle-orm";
import type { CoreContext } from "../context";
import { addLeadActivity } from "../crm/activities";
import { NotFoundError, RateLimitedError } from "../errors";
import { newId } from "../ids";
import type { EmailJob } from "../outbound/executors/resend-executor";
import { Outbox } from "../outbound/outbox/outbox";
import { consumeRateLimit, type RateLimit } from "./rate-limit";
import { upsertLeadFromForm } from "./upsert-lead";
import { validateSubmission } from "./validate-submission";

/** UTM parameters kept with a submission, under their names without the `utm_` prefix. */
export const utmParameters = ["source", "medium", "campaign", "term", "content"] as const;

export interface SubmitFormInput {
  readonly slug: string;
  /** Submitted values by field name, from a JSON or form-encoded body. */
  readonly values: Readonly<Record<string, string>>;
  /** `utm_*` parameters from the body or the query string. */
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
  const [form] = await ctx.db.select().from(forms).where(eq(forms.slug, input.slug));
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
  const utm = Object.fromEntries(utmParameters.flatMap((name) => (input.utm[name] ? [[name, input.utm[name]]] : [])));

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
    const respondTo = data[form.fields.find((field) => field.leadField === "email")?.name ?? ""];
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
    const value = data[field.name];
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
  const lines = fields.flatMap((field) =>
    data[field.name] === undefined ? [] : [`${field.label}: ${data[field.name]}`],
  );
  const campaign = Object.entries(utm).map(([name, value]) => `utm_${name}: ${value}`);
  return [`A new submission of ${formName}:`, "", ...lines, ...(campaign.length > 0 ? ["", ...campaign] : [])].join(
    "\n",
  );
}
