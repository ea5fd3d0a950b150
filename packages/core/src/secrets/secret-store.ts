import { type Database, type EventSource, webhookSecrets } from "@basalt/db";
import { and, eq, gt, isNull, or } from "drizzle-orm";
import type { Clock } from "../clock";
import type { Logger } from "../logger";
import type { SigningKey } from "../signatures/result";
import { parseSecret } from "../signatures/secret-format";
import { sourceDefinitions } from "../sources";
import type { SecretCipher } from "./cipher";

interface CachedKey extends SigningKey {
  readonly expiresAt: Date | null;
}

interface StoredKeys {
  readonly keys: CachedKey[];
  /** Expiry of each stored secret that is active but cannot be used: it does not decrypt or parse. */
  readonly unusable: (Date | null)[];
}

interface CacheEntry {
  readonly loadedAt: number;
  readonly stored: Promise<StoredKeys>;
}

export interface SecretStoreOptions {
  readonly db: Database;
  /** Null when no encryption key is configured: only environment secrets are used then. */
  readonly cipher: SecretCipher | null;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Secrets from the environment, already validated; each counts as one more active secret. */
  readonly environmentSecrets: Partial<Record<EventSource, string>>;
  /** How long decrypted secrets are reused before the table is read again. */
  readonly cacheTtlMs?: number;
}

/**
 * The active signing keys of each source: unexpired, unrevoked stored secrets plus the environment's.
 * Keys are cached briefly so verification costs no query; changes made through this process
 * invalidate the cache at once, and changes from other processes show after `cacheTtlMs`.
 */
export class SecretStore {
  readonly #options: SecretStoreOptions;
  readonly #cache = new Map<EventSource, CacheEntry>();
  readonly #environmentKeys = new Map<EventSource, SigningKey>();
  readonly #cacheTtlMs: number;

  constructor(options: SecretStoreOptions) {
    this.#options = options;
    this.#cacheTtlMs = options.cacheTtlMs ?? 5_000;
    const entries = Object.entries(options.environmentSecrets) as [EventSource, string | undefined][];
    for (const [source, value] of entries) {
      // Partial<Record> allows an explicit undefined, which means the variable is unset.
      if (value === undefined) {
        continue;
      }
      const parsed = parseSecret(sourceDefinitions[source].secretKind, value);
      if (parsed.ok) {
        this.#environmentKeys.set(source, { id: "env", key: parsed.key });
      }
    }
  }

  get canStoreSecrets(): boolean {
    return this.#options.cipher !== null;
  }

  get cipher(): SecretCipher | null {
    return this.#options.cipher;
  }

  hasEnvironmentSecret(source: EventSource): boolean {
    return this.#environmentKeys.has(source);
  }

  /** Returns the keys that verify a request now; throws only when the database cannot be read. */
  async keysFor(source: EventSource): Promise<SigningKey[]> {
    const now = this.#options.clock.now();
    const { keys } = await this.#storedKeys(source, now.getTime());
    const active: SigningKey[] = keys.filter((key) => key.expiresAt === null || key.expiresAt > now);
    const environmentKey = this.#environmentKeys.get(source);
    if (environmentKey) {
      active.push(environmentKey);
    }
    return active;
  }

  /**
   * True when the source has active stored secrets that cannot be used, because they do not decrypt with
   * the configured key or are malformed. Such a source must not fall back to accepting unsigned events.
   */
  async hasUnusableSecrets(source: EventSource): Promise<boolean> {
    const now = this.#options.clock.now();
    const { unusable } = await this.#storedKeys(source, now.getTime());
    return unusable.some((expiresAt) => expiresAt === null || expiresAt > now);
  }

  invalidate(source?: EventSource): void {
    if (source) {
      this.#cache.delete(source);
    } else {
      this.#cache.clear();
    }
  }

  #storedKeys(source: EventSource, nowMs: number): Promise<StoredKeys> {
    const cached = this.#cache.get(source);
    if (cached && nowMs - cached.loadedAt < this.#cacheTtlMs) {
      return cached.stored;
    }
    const stored = this.#load(source);
    this.#cache.set(source, { loadedAt: nowMs, stored });
    // A failed read must not be served from the cache until the TTL passes.
    stored.catch(() => {
      if (this.#cache.get(source)?.stored === stored) {
        this.#cache.delete(source);
      }
    });
    return stored;
  }

  async #load(source: EventSource): Promise<StoredKeys> {
    const { db, cipher, clock, logger } = this.#options;
    const rows = await db
      .select({ id: webhookSecrets.id, ciphertext: webhookSecrets.ciphertext, expiresAt: webhookSecrets.expiresAt })
      .from(webhookSecrets)
      .where(
        and(
          eq(webhookSecrets.source, source),
          isNull(webhookSecrets.revokedAt),
          or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, clock.now())),
        ),
      );
    if (rows.length > 0 && cipher === null) {
      logger.error(
        { source, stored_secrets: rows.length },
        "stored secrets ignored: SECRETS_ENCRYPTION_KEY is not set, so they cannot be decrypted",
      );
      return { keys: [], unusable: rows.map((row) => row.expiresAt) };
    }

    const keys: CachedKey[] = [];
    const unusable: (Date | null)[] = [];
    for (const row of rows) {
      const plaintext = await decryptSecret(cipher, row.id, source, row.ciphertext);
      if (plaintext === null) {
        logger.error(
          { source, secret_id: row.id },
          "stored secret ignored: it does not decrypt with SECRETS_ENCRYPTION_KEY",
        );
        unusable.push(row.expiresAt);
        continue;
      }
      const parsed = parseSecret(sourceDefinitions[source].secretKind, plaintext);
      if (!parsed.ok) {
        // The parse message describes the problem without repeating the secret.
        logger.error(
          { source, secret_id: row.id, problem: parsed.message },
          "stored secret ignored: it decrypts but is not a valid secret for its source",
        );
        unusable.push(row.expiresAt);
        continue;
      }
      keys.push({ id: row.id, key: parsed.key, expiresAt: row.expiresAt });
    }
    return { keys, unusable };
  }
}

/** The additional data that binds a ciphertext to its secret row. */
export function secretAssociatedData(id: string, source: EventSource): string {
  return `webhook_secrets:${id}:${source}`;
}

async function decryptSecret(
  cipher: SecretCipher | null,
  id: string,
  source: EventSource,
  ciphertext: Uint8Array,
): Promise<string | null> {
  if (cipher === null) {
    return null;
  }
  try {
    return await cipher.decrypt(ciphertext, secretAssociatedData(id, source));
  } catch {
    return null;
  }
}
