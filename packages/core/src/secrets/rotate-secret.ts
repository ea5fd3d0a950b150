import { webhookSecrets } from "@basalt/db";
import { and, asc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import { InvalidInputError } from "../errors";
import type { SecretContext } from "./context";
import { type CreatedSecret, type CreateSecretInput, insertSecret, requireCipher } from "./create-secret";

/** How long a rotated-out secret keeps verifying unless the caller says otherwise. */
export const defaultRotationGraceHours = 24;
/** Most rotated-out secrets a source keeps; older ones are revoked. */
export const maxExpiringSecretsPerSource = 10;

export interface RotateSecretInput extends CreateSecretInput {
  /** Hours the current secrets keep verifying, so providers can switch without losing an event. */
  readonly graceHours?: number;
}

/**
 * Adds a new secret and gives every current non-expiring secret of the source an expiry, all in one
 * transaction that holds a lock per source. Keeps at most ten expiring secrets per source by revoking
 * the oldest.
 */
export async function rotateSecret(ctx: SecretContext, input: RotateSecretInput): Promise<CreatedSecret> {
  const graceHours = input.graceHours ?? defaultRotationGraceHours;
  if (!Number.isFinite(graceHours) || graceHours < 0 || graceHours > 24 * 30) {
    throw new InvalidInputError(`graceHours ${graceHours} is invalid; use a number of hours from 0 to 720.`);
  }
  const cipher = requireCipher(ctx);
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + graceHours * 3_600_000);

  const created = await ctx.db.transaction(async (tx) => {
    // Two rotations of one source at once would each leave a non-expiring secret; this lock orders them.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`webhook_secrets:${input.source}`}))`);
    await tx
      .update(webhookSecrets)
      .set({ expiresAt })
      .where(
        and(
          eq(webhookSecrets.source, input.source),
          isNull(webhookSecrets.revokedAt),
          isNull(webhookSecrets.expiresAt),
        ),
      );
    const secret = await insertSecret(tx, cipher, input);

    const expiring = await tx
      .select({ id: webhookSecrets.id })
      .from(webhookSecrets)
      .where(
        and(
          eq(webhookSecrets.source, input.source),
          isNull(webhookSecrets.revokedAt),
          isNotNull(webhookSecrets.expiresAt),
        ),
      )
      .orderBy(asc(webhookSecrets.createdAt), asc(webhookSecrets.id));
    const excess = expiring.slice(0, Math.max(0, expiring.length - maxExpiringSecretsPerSource));
    if (excess.length > 0) {
      await tx
        .update(webhookSecrets)
        .set({ revokedAt: now })
        .where(
          inArray(
            webhookSecrets.id,
            excess.map((row) => row.id),
          ),
        );
    }
    return secret;
  });

  ctx.secrets.invalidate(input.source);
  ctx.logger.info({ source: input.source, secret_id: created.id, grace_hours: graceHours }, "signing secret rotated");
  return created;
}
