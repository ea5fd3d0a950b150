import { type EventSource, type Executor, webhookSecrets } from "@basalt/db";
import { ConfigurationError, InvalidInputError } from "../errors";
import { newId } from "../ids";
import { sha256Hex } from "../signatures/hmac";
import { generateSecret, parseSecret } from "../signatures/secret-format";
import { sourceDefinitions } from "../sources";
import type { SecretCipher } from "./cipher";
import type { SecretContext } from "./context";
import { secretAssociatedData } from "./secret-store";

export interface CreatedSecret {
  readonly id: string;
  readonly source: EventSource;
  /** The secret itself: shown once to whoever created it, stored only encrypted. */
  readonly value: string;
  /** The first 12 hex digits of the secret's SHA-256. */
  readonly fingerprint: string;
}

export interface CreateSecretInput {
  readonly source: EventSource;
  /** A secret the provider issued; a new random one is generated without it. */
  readonly value?: string | undefined;
}

/** Adds an active signing secret to a source, next to any it already has. */
export async function createSecret(ctx: SecretContext, input: CreateSecretInput): Promise<CreatedSecret> {
  const created = await insertSecret(ctx.db, requireCipher(ctx), input);
  ctx.secrets.invalidate(input.source);
  ctx.logger.info({ source: input.source, secret_id: created.id }, "signing secret created");
  return created;
}

/** Validates, encrypts and inserts a secret; shared by create and rotate so both run in the caller's transaction. */
export async function insertSecret(
  db: Executor,
  cipher: SecretCipher,
  input: CreateSecretInput,
): Promise<CreatedSecret> {
  const kind = sourceDefinitions[input.source].secretKind;
  const value = input.value ?? generateSecret(kind);
  const parsed = parseSecret(kind, value);
  if (!parsed.ok) {
    throw new InvalidInputError(`The ${input.source} secret ${parsed.message}.`);
  }

  const id = newId("whs");
  const fingerprint = secretFingerprint(value);
  const ciphertext = await cipher.encrypt(value, secretAssociatedData(id, input.source));
  await db.insert(webhookSecrets).values({ id, source: input.source, ciphertext, fingerprint });
  return { id, source: input.source, value, fingerprint };
}

export function requireCipher(ctx: SecretContext): SecretCipher {
  const cipher = ctx.secrets.cipher;
  if (cipher === null) {
    throw new ConfigurationError("SECRETS_ENCRYPTION_KEY is not set, so secrets cannot be stored; set it and restart.");
  }
  return cipher;
}

/** Identifies a secret without revealing any of it: the first 12 hex digits of its SHA-256. */
export function secretFingerprint(value: string): string {
  return sha256Hex(new TextEncoder().encode(value)).slice(0, 12);
}
