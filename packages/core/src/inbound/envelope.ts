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

/** Longest idempotency key stored as given; longer keys are stored as their SHA-256. */
const maxKeyLength = 200;

export function idempotencyKey(namespace: string, value: string): string {
  const key = `${namespace}:${value}`;
  return key.length <= maxKeyLength ? key : `sha256:${sha256Hex(new TextEncoder().encode(key))}`;
}

/** The key of a body that carries no id of its own: identical bodies are one event. */
export function bodyKey(body: Uint8Array): string {
  return `sha256:${sha256Hex(body)}`;
}
