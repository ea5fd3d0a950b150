import type { Clock } from "../clock";
import { sha256Hex } from "../signatures/hmac";
import type { SigningKey, VerificationResult } from "../signatures/result";
import { type StandardWebhookHeaderNames, verifyStandardWebhook } from "../signatures/standard-webhooks";
import type { SourceDefinition } from "../sources";
import { decodeJson, isRecord } from "./json";

export interface InboundRequest {
  readonly body: Uint8Array;
  readonly headers: Headers;
}

/**
 * Classification of a verified body, decided before anything is stored. An invalid body is keyed by its
 * hash, so it never takes the key that a corrected delivery of the same event would use.
 */
export type Envelope =
  | { kind: "handled"; eventType: string; idempotencyKey: string; occurredAt: Date | null }
  | { kind: "unhandled"; eventType: string | null; idempotencyKey: string; occurredAt: Date | null; reason: string }
  | { kind: "invalid"; eventType: string | null; idempotencyKey: string; reason: string };

export interface VerifyOptions {
  readonly clock: Clock;
  readonly toleranceSeconds: number;
}

/** Adapter of one provider: how it signs, identifies and shapes its events. */
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

/** Returns the envelope of a body that failed its checks, keyed by the body's hash. */
export function invalidEnvelope(body: Uint8Array, eventType: string | null, reason: string): Envelope {
  return { kind: "invalid", eventType, idempotencyKey: bodyKey(body), reason };
}

export type TypedBody = { ok: true; value: Record<string, unknown>; type: string } | { ok: false; envelope: Envelope };

/**
 * Reads a body that must be a JSON object with a string `type`. Returns the object and its type, or the
 * invalid envelope that says why not, with `exampleType` as the example in its message.
 */
export function readTypedBody(body: Uint8Array, exampleType: string): TypedBody {
  const json = decodeJson(body);
  return json.ok
    ? typedBody(body, json.value, exampleType)
    : { ok: false, envelope: invalidEnvelope(body, null, json.message) };
}

/** Checks that an already decoded body is a JSON object with a string `type`, as `readTypedBody` does. */
export function typedBody(body: Uint8Array, value: unknown, exampleType: string): TypedBody {
  if (isRecord(value) && typeof value.type === "string") {
    return { ok: true, value, type: value.type };
  }
  const reason = `The body must be a JSON object with a string "type", such as "${exampleType}".`;
  return { ok: false, envelope: invalidEnvelope(body, null, reason) };
}

/** Returns a `verify` for a provider that signs with Standard Webhooks headers under the given names. */
export function standardWebhookVerifier(headerNames: StandardWebhookHeaderNames): SourceAdapter["verify"] {
  return (request, keys, options) =>
    verifyStandardWebhook({
      body: request.body,
      headers: request.headers,
      headerNames,
      keys,
      now: options.clock.now(),
      toleranceSeconds: options.toleranceSeconds,
    });
}
