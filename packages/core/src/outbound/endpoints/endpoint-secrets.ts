import { type Executor, endpointSecrets } from "@basalt/db";
import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import { ConfigurationError } from "../../errors";
import { newId } from "../../ids";
import type { SecretCipher } from "../../secrets/cipher";
import { secretFingerprint } from "../../secrets/create-secret";
import { generateSecret, parseWhsecSecret } from "../../signatures/secret-format";

/** The associated data that binds an endpoint secret's ciphertext to its row. */
function associatedData(id: string, endpointId: string): string {
  return `endpoint_secrets:${id}:${endpointId}`;
}

export function requireEndpointCipher(cipher: SecretCipher | null): SecretCipher {
  if (cipher === null) {
    throw new ConfigurationError(
      "SECRETS_ENCRYPTION_KEY is not set, so endpoint signing secrets cannot be stored; set it and restart.",
    );
  }
  return cipher;
}

/** Creates a new `whsec_` signing secret with 32 random bytes for an endpoint and returns it. */
export async function insertEndpointSecret(
  tx: Executor,
  cipher: SecretCipher,
  endpointId: string,
  now: Date,
): Promise<{ id: string; secret: string; fingerprint: string }> {
  const id = newId("eps");
  const secret = generateSecret("whsec");
  await tx.insert(endpointSecrets).values({
    id,
    endpointId,
    ciphertext: await cipher.encrypt(secret, associatedData(id, endpointId)),
    fingerprint: secretFingerprint(secret),
    createdAt: now,
  });
  return { id, secret, fingerprint: secretFingerprint(secret) };
}

/**
 * Returns the keys that sign a delivery to an endpoint now: the current secret and every rotated-out
 * secret still in its grace period, oldest first. Receivers accept a request if any signature matches.
 */
export async function endpointSigningKeys(
  db: Executor,
  cipher: SecretCipher,
  endpointId: string,
  now: Date,
): Promise<Uint8Array[]> {
  const rows = await db
    .select()
    .from(endpointSecrets)
    .where(
      and(
        eq(endpointSecrets.endpointId, endpointId),
        or(isNull(endpointSecrets.expiresAt), gt(endpointSecrets.expiresAt, now)),
      ),
    )
    .orderBy(asc(endpointSecrets.createdAt), asc(endpointSecrets.id));
  const keys: Uint8Array[] = [];
  for (const row of rows) {
    const parsed = parseWhsecSecret(await cipher.decrypt(row.ciphertext, associatedData(row.id, endpointId)));
    if (parsed.ok) {
      keys.push(parsed.key);
    }
  }
  return keys;
}
