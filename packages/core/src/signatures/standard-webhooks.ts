import { constantTimeEqual, hmacSha256 } from "./hmac";
import type { SigningKey, VerificationResult } from "./result";

/** Header names of the Standard Webhooks scheme (OpenAI) and of Svix (Resend), which signs the same way. */
export interface StandardWebhookHeaderNames {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
}

export const standardWebhookHeaderNames: StandardWebhookHeaderNames = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
};

export const svixHeaderNames: StandardWebhookHeaderNames = {
  id: "svix-id",
  timestamp: "svix-timestamp",
  signature: "svix-signature",
};

export interface StandardWebhookInput {
  readonly body: Uint8Array;
  readonly headers: Headers;
  readonly headerNames: StandardWebhookHeaderNames;
  readonly keys: readonly SigningKey[];
  readonly now: Date;
  /** How far the signed timestamp may be from now, in the past or the future. */
  readonly toleranceSeconds: number;
}

/**
 * Digits only, at most 20, so that a timestamp in milliseconds or a finer unit fails the tolerance
 * check with a hint instead of the format check.
 */
const unixSeconds = /^\d{1,20}$/;
const encoder = new TextEncoder();

/**
 * Verifies a Standard Webhooks signature: HMAC-SHA256 of `${id}.${timestamp}.${body}` keyed with the
 * decoded `whsec_` secret, where the signature header lists `v1,<base64>` entries separated by spaces.
 * Any matching v1 entry passes; other versions are ignored. Never throws on hostile input.
 */
export function verifyStandardWebhook(input: StandardWebhookInput): VerificationResult {
  const { headerNames } = input;
  const id = input.headers.get(headerNames.id)?.trim() ?? "";
  const timestamp = input.headers.get(headerNames.timestamp)?.trim() ?? "";
  const signature = input.headers.get(headerNames.signature)?.trim() ?? "";
  const missing = [
    id === "" ? headerNames.id : null,
    timestamp === "" ? headerNames.timestamp : null,
    signature === "" ? headerNames.signature : null,
  ].filter((name) => name !== null);
  if (missing.length > 0) {
    return { ok: false, reason: "missing_signature", message: `Missing header: ${missing.join(", ")}.` };
  }

  if (!unixSeconds.test(timestamp)) {
    return {
      ok: false,
      reason: "invalid_signature",
      message: `The ${headerNames.timestamp} header must be Unix seconds as digits only (at most 20).`,
    };
  }
  const skewSeconds = Number(timestamp) - Math.floor(input.now.getTime() / 1000);
  if (Math.abs(skewSeconds) > input.toleranceSeconds) {
    const hint = timestamp.length > 10 ? " It looks like milliseconds or a finer unit; send Unix seconds." : "";
    return {
      ok: false,
      reason: "timestamp_out_of_tolerance",
      message: `The ${headerNames.timestamp} header is ${Math.abs(skewSeconds)} seconds in the ${skewSeconds < 0 ? "past" : "future"}; at most ${input.toleranceSeconds} are accepted.${hint}`,
    };
  }

  const candidates = signature
    .split(/\s+/)
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => encoder.encode(entry.slice(3)));
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: "invalid_signature",
      message: `The ${headerNames.signature} header has no v1 signature.`,
    };
  }
  const signedPrefix = encoder.encode(`${id}.${timestamp}.`);
  for (const key of input.keys) {
    const expected = encoder.encode(hmacSha256(key.key, signedPrefix, input.body).toBase64());
    if (candidates.some((candidate) => constantTimeEqual(candidate, expected))) {
      return { ok: true, keyId: key.id };
    }
  }
  return {
    ok: false,
    reason: "invalid_signature",
    message: `No ${headerNames.signature} entry matches the body under any active secret.`,
  };
}

/** Signs a message the Standard Webhooks way and returns the value of the signature header. */
export function signStandardWebhook(key: Uint8Array, id: string, timestampSeconds: number, body: Uint8Array): string {
  const signature = hmacSha256(key, encoder.encode(`${id}.${timestampSeconds}.`), body);
  return `v1,${signature.toBase64()}`;
}
