import { type Executor, forms, isUniqueViolation, webhookEndpoints } from "@basalt/db";
import { eq } from "drizzle-orm";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors";
import { newId } from "../ids";
import { formatIssues } from "../inbound/json";
import type { OutboundContext } from "../outbound/context";
import { insertEndpointSecret, requireEndpointCipher } from "../outbound/endpoints/endpoint-secrets";
import { checkEndpointUrl } from "../outbound/http/url-policy";
import { type FormInput, formInput } from "./form-input";

export interface SavedForm {
  readonly id: string;
  /** The signing secret of the form's webhook, when this save created one; shown once. */
  readonly webhookSecret: string | null;
}

/** The disabled reason of a form's endpoint whose URL was removed; adding a URL again enables it. */
const urlRemovedReason = "the form's webhook URL was removed";

/** Creates a form. A `webhookUrl` gets an endpoint of its own that receives this form's submissions. */
export async function createForm(ctx: OutboundContext, input: FormInput): Promise<SavedForm> {
  const { form, endpointUrl } = parseForm(ctx, input);
  const now = ctx.clock.now();
  const id = newId("form");

  const webhookSecret = await withSlugConflict(form.slug, () =>
    ctx.db.transaction(async (tx) => {
      const [taken] = await tx.select({ id: forms.id }).from(forms).where(eq(forms.slug, form.slug));
      if (taken) {
        throw new ConflictError(`slug ${form.slug} is already used by form ${taken.id}; choose another`);
      }
      await tx.insert(forms).values({ id, ...form, createdAt: now, updatedAt: now });
      return syncFormEndpoint(ctx, tx, id, endpointUrl, now);
    }),
  );
  ctx.logger.info({ form_id: id, slug: form.slug }, "form created");
  return { id, webhookSecret };
}

/** Replaces a form's definition and keeps its webhook endpoint in step with `webhookUrl`. */
export async function updateForm(ctx: OutboundContext, id: string, input: FormInput): Promise<SavedForm> {
  const { form, endpointUrl } = parseForm(ctx, input);
  const now = ctx.clock.now();

  const webhookSecret = await withSlugConflict(form.slug, () =>
    ctx.db.transaction(async (tx) => {
      const [taken] = await tx.select({ id: forms.id }).from(forms).where(eq(forms.slug, form.slug));
      if (taken && taken.id !== id) {
        throw new ConflictError(`slug ${form.slug} is already used by form ${taken.id}; choose another`);
      }
      // The update locks the form's row until commit, so two saves of one form cannot both create its endpoint.
      const updated = await tx
        .update(forms)
        .set({ ...form, updatedAt: now })
        .where(eq(forms.id, id))
        .returning({ id: forms.id });
      if (updated.length === 0) {
        throw new NotFoundError(`form ${id} not found`);
      }
      return syncFormEndpoint(ctx, tx, id, endpointUrl, now);
    }),
  );
  ctx.logger.info({ form_id: id, slug: form.slug }, "form updated");
  return { id, webhookSecret };
}

/** Validates a form and its webhook URL before anything is written; `endpointUrl` is the normalised URL. */
function parseForm(ctx: OutboundContext, input: FormInput) {
  const parsed = formInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(formatIssues(parsed.error));
  }
  const form = parsed.data;
  if (form.webhookUrl === null) {
    return { form, endpointUrl: null };
  }
  const checked = checkEndpointUrl(form.webhookUrl, { allowLoopback: ctx.http.allowLoopback });
  if (!checked.ok) {
    throw new InvalidInputError(`webhookUrl: ${checked.message}`);
  }
  return { form, endpointUrl: checked.url.toString() };
}

/**
 * Runs a save and reports a unique violation as a taken slug. Two saves of one slug at once both pass the
 * check before the insert, and the unique index then rejects the later one.
 */
async function withSlugConflict<T>(slug: string, save: () => Promise<T>): Promise<T> {
  try {
    return await save();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`slug ${slug} is already used by another form; choose another`);
    }
    throw error;
  }
}

/**
 * Creates, updates or disables the endpoint that receives this form's `form.submitted`. Returns the new
 * signing secret when an endpoint was created.
 */
async function syncFormEndpoint(
  ctx: OutboundContext,
  tx: Executor,
  formId: string,
  url: string | null,
  now: Date,
): Promise<string | null> {
  const [endpoint] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.formId, formId));
  if (url === null) {
    if (endpoint?.enabled) {
      await tx
        .update(webhookEndpoints)
        .set({ enabled: false, disabledReason: urlRemovedReason, disabledAt: now, updatedAt: now })
        .where(eq(webhookEndpoints.id, endpoint.id));
    }
    return null;
  }

  if (endpoint) {
    // A new URL is a new receiver: it starts enabled, without the old URL's run of failures. The same URL
    // stays disabled when deliveries or an admin disabled it, so saving a form's labels cannot undo that.
    const restored = !endpoint.enabled && endpoint.disabledReason === urlRemovedReason;
    if (endpoint.url !== url || restored) {
      await tx
        .update(webhookEndpoints)
        .set({ url, enabled: true, disabledReason: null, disabledAt: null, failingSince: null, updatedAt: now })
        .where(eq(webhookEndpoints.id, endpoint.id));
    }
    return null;
  }
  const endpointId = newId("whe");
  await tx.insert(webhookEndpoints).values({
    id: endpointId,
    url,
    eventTypes: ["form.submitted"],
    formId,
    description: "webhook URL of a form",
    createdAt: now,
    updatedAt: now,
  });
  const secret = await insertEndpointSecret(tx, requireEndpointCipher(ctx.cipher), endpointId, now);
  return secret.secret;
}
