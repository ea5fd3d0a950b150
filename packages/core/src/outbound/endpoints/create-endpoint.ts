import { webhookEndpoints } from "@basalt/db";
import { newId } from "../../ids";
import type { OutboundContext } from "../context";
import { insertEndpointSecret, requireEndpointCipher } from "./endpoint-secrets";
import { validateEndpointUrl, validateEventTypes } from "./validate-endpoint";

export interface CreateEndpointInput {
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly description?: string | undefined;
}

export interface CreatedEndpoint {
  readonly id: string;
  readonly url: string;
  readonly eventTypes: string[];
  /** The `whsec_` signing secret, shown once, to the caller that created the endpoint. */
  readonly secret: string;
}

/** Adds a customer endpoint subscribed to event types, with a new signing secret. */
export async function createEndpoint(ctx: OutboundContext, input: CreateEndpointInput): Promise<CreatedEndpoint> {
  const url = validateEndpointUrl(input.url, ctx.http.allowLoopback);
  const eventTypes = validateEventTypes(input.eventTypes);
  const cipher = requireEndpointCipher(ctx.cipher);
  const now = ctx.clock.now();
  const id = newId("whe");

  const secret = await ctx.db.transaction(async (tx) => {
    await tx.insert(webhookEndpoints).values({
      id,
      url,
      eventTypes,
      description: input.description ?? null,
      createdAt: now,
      updatedAt: now,
    });
    return insertEndpointSecret(tx, cipher, id, now);
  });
  ctx.logger.info({ endpoint_id: id, event_types: eventTypes }, "webhook endpoint created");
  return { id, url, eventTypes, secret: secret.secret };
}
