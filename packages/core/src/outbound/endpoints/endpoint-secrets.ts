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

interface SigningKey {
  readonly key: Uint8Array;
  readonly expiresAt: Date | null;
}

interface CachedKeys {
  readonly loadedAtMs: number;
  /** A promise, so the attempts that miss the cache together share one query. */
  readonly keys: Promise<readonly SigningKey[]>;
}

/** Decrypted keys per endpoint, reused briefly so a burst of deliveries costs no query per attempt. */
const keyCache = new Map<string, CachedKeys>();
/** How long decrypted keys are reused; a rotation in another process shows after this long. */
const keyCacheTtlMs = 5_000;
/** Entries kept before the cache is emptied, so a very large number of endpoints cannot grow it without bound. */
const maxCachedEndpoints = 10_000;

/** Drops an endpoint's cached keys after its secrets changed in this process. */
export function forgetEndpointKeys(endpointId: string): void {
  keyCache.delete(endpointId);
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
  const cached = keyCache.get(endpointId);
  const ageMs = cached ? now.getTime() - cached.loadedAtMs : Number.POSITIVE_INFINITY;
  let entry = cached;
  if (entry === undefined || ageMs < 0 || ageMs >= keyCacheTtlMs) {
    if (keyCache.size >= maxCachedEndpoints) {
      keyCache.clear();
    }
    const loaded: CachedKeys = { loadedAtMs: now.getTime(), keys: loadKeys(db, cipher, endpointId, now) };
    keyCache.set(endpointId, loaded);
    // A failed load is not kept, so the next attempt queries again.
    loaded.keys.catch(() => {
      if (keyCache.get(endpointId) === loaded) {
        keyCache.delete(endpointId);
      }
    });
    entry = loaded;
  }
  const keys = await entry.keys;
  return keys.filter((key) => key.expiresAt === null || key.expiresAt > now).map((key) => key.key);
}

async function loadKeys(db: Executor, cipher: SecretCipher, endpointId: string, now: Date): Promise<SigningKey[]> {
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
  const keys: SigningKey[] = [];
  for (const row of rows) {
    const parsed = parseWhsecSecret(await cipher.decrypt(row.ciphertext, associatedData(row.id, endpointId)));
    if (parsed.ok) {
      keys.push({ key: parsed.key, expiresAt: row.expiresAt });
    }
  }
  return keys;
}
