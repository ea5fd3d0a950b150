import { constantTimeEqual, hmacSha256 } from "./hmac";
import type { SigningKey, VerificationResult } from "./result";

const hexDigest = /^[0-9a-fA-F]{64}$/;
const prefix = "sha256=";

/**
 * Parses a hex HMAC-SHA256 signature header: 64 hex digits in either case, optionally after `sha256=`,
 * surrounding whitespace ignored. Returns null for anything else, including non-ASCII text.
 */
export function parseHexSignature(header: string): Uint8Array | null {
  let value = header.trim();
  if (value.slice(0, prefix.length).toLowerCase() === prefix) {
    value = value.slice(prefix.length);
  }
  if (!hexDigest.test(value)) {
    return null;
  }
  return Uint8Array.fromHex(value);
}

/**
 * Verifies a hex HMAC-SHA256 of the exact body bytes against every key; the key is the secret's UTF-8
 * bytes. Never throws: a missing or malformed header is a failure value.
 */
export function verifyHexSignature(
  body: Uint8Array,
  header: string | null,
  keys: readonly SigningKey[],
  headerName: string,
): VerificationResult {
  if (header === null || header.trim() === "") {
    return { ok: false, reason: "missing_signature", message: `The ${headerName} header is missing.` };
  }
  const signature = parseHexSignature(header);
  if (signature === null) {
    return {
      ok: false,
      reason: "invalid_signature",
      message: `The ${headerName} header must be a hex HMAC-SHA256 of the body: 64 hex digits, optionally prefixed with sha256=.`,
    };
  }
  for (const key of keys) {
    if (constantTimeEqual(hmacSha256(key.key, body), signature)) {
      return { ok: true, keyId: key.id };
    }
  }
  return {
    ok: false,
    reason: "invalid_signature",
    message: `The ${headerName} signature does not match the body under any active secret.`,
  };
}

/** Signs a body the way hex HMAC providers do, for the trigger command and tests. */
export function signHex(secret: string, body: Uint8Array): string {
  return hmacSha256(new TextEncoder().encode(secret), body).toHex();
}
