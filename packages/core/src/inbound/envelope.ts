import type { Clock } from "../clock";
import { sha256Hex } from "../signatures/hmac";
import type { SigningKey, VerificationResult } from "../signatures/result";
import type { SourceDefinition } from "../sources";

export interface InboundRequest {
  readonly body: Uint8Array;
  readonly headers: Headers;
}

/**
 * What a verified body is, decided before anything is stored. An invalid body is keyed by its hash,
 * so it never takes the key that a corrected delivery of the same event would use.
 */
export type Envelope =
  | { kind: "handled"; eventType: string; idempotencyKey: string; occurredAt: Date | null }
  | { kind: "unhandled"; eventType: string | null; idempotencyKey: string; occurredAt: Date | null; reason: string }
  | { kind: "invalid"; eventType: string | null; idempotencyKey: string; reason: string };

export interface VerifyOptions {
  readonly clock: Clock;
  readonly toleranceSeconds: number;
}

/** How one provider signs, identifies and shapes its events. */
export interface SourceAdapter {
  readonly definition: SourceDefinition;
  verify(request: InboundRequest, keys: readonly SigningKey[], options: VerifyOptions): VerificationResult;
  parse(request: InboundRequest): Envelope;
}

/** Maximum length of an idempotency key stored as given; longer keys are stored as their SHA-256. */
const maxKeyLength = 200;

const encoder = new TextEncoder();

/**
 * Builds the deduplication key `namespace:value`. Some keys are replaced by their SHA-256: keys longer
 * than 200 characters, and keys that a Postgres text column cannot hold exactly. Postgres rejects a NUL
 * character, and UTF-8 encoding turns an unpaired UTF-16 surrogate into U+FFFD, so without the hash a
 * hostile id would fail the insert or merge with another id.
 */
export function idempotencyKey(namespace: string, value: string): string {
  const key = `${namespace}:${value}`;
  const wellFormed = key.isWellFormed();
  if (key.length <= maxKeyLength && wellFormed && !key.includes("\u0000")) {
    return key;
  }
  // JSON.stringify writes unpaired surrogates as \uXXXX escapes, so distinct ids keep distinct hashes.
  const text = wellFormed ? key : JSON.stringify(key);
  return `key-sha256:${sha256Hex(encoder.encode(text))}`;
}

/**
 * The key of a body that carries no id of its own: identical bodies are one event. Its prefix differs
 * from that of a hashed id, so a crafted body can never take the key of an event with a long id.
 */
export function bodyKey(body: Uint8Array): string {
  return `body-sha256:${sha256Hex(body)}`;
}
