import { type Database, webhookSecrets } from "@basalt/db";
import { isNull } from "drizzle-orm";
import { ConfigurationError } from "../errors";
import type { SecretCipher } from "./cipher";
import { secretAssociatedData } from "./secret-store";

/**
 * Confirms at startup that every unrevoked stored secret decrypts with the configured key, so a wrong or
 * missing SECRETS_ENCRYPTION_KEY stops the process instead of failing every request with 401.
 */
export async function checkStoredSecrets(db: Database, cipher: SecretCipher | null): Promise<number> {
  const rows = await db
    .select({ id: webhookSecrets.id, source: webhookSecrets.source, ciphertext: webhookSecrets.ciphertext })
    .from(webhookSecrets)
    .where(isNull(webhookSecrets.revokedAt));
  if (rows.length > 0 && cipher === null) {
    throw new ConfigurationError(
      `SECRETS_ENCRYPTION_KEY is not set, but the database stores ${rows.length} encrypted secrets; set the key they were created with.`,
    );
  }
  for (const row of rows) {
    try {
      await cipher?.decrypt(row.ciphertext, secretAssociatedData(row.id, row.source));
    } catch {
      throw new ConfigurationError(
        `SECRETS_ENCRYPTION_KEY does not decrypt stored secret ${row.id} (source ${row.source}); set the key the secrets were created with.`,
      );
    }
  }
  return rows.length;
}
