import { webhookEndpoints } from "@basalt/db";
import { eq } from "drizzle-orm";
import { NotFoundError } from "../../errors";
import type { OutboundContext } from "../context";
import { validateEndpointUrl, validateEventTypes } from "./validate-endpoint";

export interface UpdateEndpointInput {
  readonly id: string;
  readonly url?: string | undefined;
  readonly eventTypes?: readonly string[] | undefined;
  readonly description?: string | null | undefined;
  /** Enabling clears the reason it was disabled and its run of failures. */
  readonly enabled?: boolean | undefined;
}

/** Changes an endpoint's URL, subscriptions, description or enabled flag. */
export async function updateEndpoint(ctx: OutboundContext, input: UpdateEndpointInput): Promise<void> {
  const now = ctx.clock.now();
  const changes = {
    ...(input.url === undefined ? {} : { url: validateEndpointUrl(input.url, ctx.http.allowLoopback) }),
    ...(input.eventTypes === undefined ? {} : { eventTypes: validateEventTypes(input.eventTypes) }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.enabled === undefined
      ? {}
      : input.enabled
        ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
        : { enabled: false, disabledReason: "disabled by an admin", disabledAt: now }),
    updatedAt: now,
  };
  const updated = await ctx.db
    .update(webhookEndpoints)
    .set(changes)
    .where(eq(webhookEndpoints.id, input.id))
    .returning({ id: webhookEndpoints.id });
  if (updated.length === 0) {
    throw new NotFoundError(`endpoint ${input.id} not found`);
  }
  ctx.logger.info({ endpoint_id: input.id, changed: Object.keys(changes) }, "webhook endpoint updated");
}
