import { webhookSecrets } from "@basalt/db";
import { and, eq, isNull } from "drizzle-orm";
import { NotFoundError } from "../errors";
import type { SecretContext } from "./context";

/** Stops a stored secret from verifying anything, at once. */
export async function revokeSecret(ctx: SecretContext, input: { id: string }): Promise<void> {
  const revoked = await ctx.db
    .update(webhookSecrets)
    .set({ revokedAt: ctx.clock.now() })
    .where(and(eq(webhookSecrets.id, input.id), isNull(webhookSecrets.revokedAt)))
    .returning({ source: webhookSecrets.source });
  const row = revoked[0];
  if (!row) {
    throw new NotFoundError(`Secret ${input.id} not found or already revoked.`);
  }
  ctx.secrets.invalidate(row.source);
  ctx.logger.info({ source: row.source, secret_id: input.id }, "signing secret revoked");
}
