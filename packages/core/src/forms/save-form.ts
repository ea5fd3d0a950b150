import { type Executor, forms, webhookEndpoints } from "@basalt/db";
import { eq } from "drizzle-orm";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors";
import { newId } from "../ids";
import { formatIssues } from "../inbound/json";
import type { OutboundContext } from "../outbound/context";
import { insertEndpointSecret, requireEndpointCipher } from "../outbound/endpoints/endpoint-secrets";
import { validateEndpointUrl } from "../outbound/endpoints/validate-endpoint";
import { type FormInput, formInput } from "./form-input";

export interface SavedForm {
  readonly id: string;
  /** The signing secret of the form's webhook, when this save created one; shown once. */
  readonly webhookSecret: string | null;
}

/** Creates a form. A `webhookUrl` gets an endpoint of its own that receives this form's submissions. */
export async function createForm(ctx: OutboundContext, input: FormInput): Promise<SavedForm> {
  const form = parseForm(input);
  const now = ctx.clock.now();
  const id = newId("form");
  const webhookSecret = await ctx.db.transaction(async (tx) => {
    const [taken] = await tx.select({ id: forms.id }).from(forms).where(eq(forms.slug, form.slug));
    if (taken) {
      throw new ConflictError(`slug ${form.slug} is already used by form ${taken.id}; choose another`);
    }
    await tx.insert(forms).values({ id, ...form, createdAt: now, updatedAt: now });
    return syncFormEndpoint(ctx, tx, id, form.webhookUrl, now);
  });
  ctx.logger.info({ form_id: id, slug: form.slug }, "form created");
  return { id, webhookSecret };
}

/** Replaces a form's definition and keeps its webhook endpoint in step with `webhookUrl`. */
export async function updateForm(ctx: OutboundContext, id: string, input: FormInput): Promise<SavedForm> {
  const form = parseForm(input);
  const now = ctx.clock.now();
  const webhookSecret = await ctx.db.transaction(async (tx) => {
    const [taken] = await tx.select({ id: forms.id }).from(forms).where(eq(forms.slug, form.slug));
    if (taken && taken.id !== id) {
      throw new ConflictError(`slug ${form.slug} is already used by form ${taken.id}; choose another`);
    }
    const updated = await tx
      .update(forms)
      .set({ ...form, updatedAt: now })
      .where(eq(forms.id, id))
      .returning({ id: forms.id });
    if (updated.length === 0) {
      throw new NotFoundError(`form ${id} not found`);
    }
    return syncFormEndpoint(ctx, tx, id, form.webhookUrl, now);
  });
  ctx.logger.info({ form_id: id, slug: form.slug }, "form updated");
  return { id, webhookSecret };
}

function parseForm(input: FormInput) {
  const parsed = formInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(formatIssues(parsed.error));
  }
  return parsed.data;
}

/**
 * Creates, updates or disables the endpoint that receives this form's `form.submitted`. Returns the new
 * signing secret when an endpoint was created.
 */
async function syncFormEndpoint(
  ctx: OutboundContext,
  tx: Executor,
  formId: string,
  webhookUrl: string | null,
  now: Date,
): Promise<string | null> {
  const [endpoint] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.formId, formId));
  if (webhookUrl === null) {
    if (endpoint?.enabled) {
      await tx
        .update(webhookEndpoints)
        .set({ enabled: false, disabledReason: "the form's webhook URL was removed", disabledAt: now, updatedAt: now })
        .where(eq(webhookEndpoints.id, endpoint.id));
    }
    return null;
  }

  const url = validateEndpointUrl(webhookUrl, ctx.http.allowLoopback);
  if (endpoint) {
    await tx
      .update(webhookEndpoints)
      .set({ url, enabled: true, disabledReason: null, disabledAt: null, updatedAt: now })
      .where(eq(webhookEndpoints.id, endpoint.id));
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
