import { endpointSecrets, webhookEndpoints } from "@basalt/db";
import { and, eq, isNull, sql } from "drizzle-orm";
import { InvalidInputError, NotFoundError } from "../../errors";
import type { OutboundContext } from "../context";
import { forgetEndpointKeys, insertEndpointSecret, requireEndpointCipher } from "./endpoint-secrets";

/** Hours a rotated-out endpoint secret keeps signing unless the caller says otherwise. */
export const defaultEndpointSecretGraceHours = 24;

/**
 * Gives an endpoint a new signing secret. The previous one keeps signing for the grace period, so every
 * request carries both signatures and the receiver can switch without rejecting a delivery.
 */
export async function rotateEndpointSecret(
  ctx: OutboundContext,
  input: { endpointId: string; graceHours?: number },
): Promise<{ secret: string }> {
  const graceHours = input.graceHours ?? defaultEndpointSecretGraceHours;
  if (!Number.isFinite(graceHours) || graceHours < 0 || graceHours > 24 * 30) {
    throw new InvalidInputError(`graceHours ${graceHours} is invalid; use a number of hours from 0 to 720.`);
  }
  const cipher = requireEndpointCipher(ctx.cipher);
  const now = ctx.clock.now();

  const created = await ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`endpoint_secrets:${input.endpointId}`}))`);
    const [endpoint] = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, input.endpointId));
    if (!endpoint) {
      throw new NotFoundError(`endpoint ${input.endpointId} not found`);
    }
    await tx
      .update(endpointSecrets)
      .set({ expiresAt: new Date(now.getTime() + graceHours * 3_600_000) })
      .where(and(eq(endpointSecrets.endpointId, endpoint.id), isNull(endpointSecrets.expiresAt)));
    return insertEndpointSecret(tx, cipher, endpoint.id, now);
  });
  forgetEndpointKeys(input.endpointId);
  ctx.logger.info({ endpoint_id: input.endpointId, grace_hours: graceHours }, "endpoint signing secret rotated");
  return { secret: created.secret };
}
