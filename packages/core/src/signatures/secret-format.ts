/** Which format a source's secret takes: a plain string keying a hex HMAC, or a `whsec_` base64 key. */
export type SecretKind = "hex" | "whsec";

export type ParsedSecret = { ok: true; key: Uint8Array } | { ok: false; message: string };

/** Shortest decoded `whsec_` key accepted: 128 bits. */
export const minWhsecKeyBytes = 16;
/** Shortest hex-HMAC secret accepted, in characters. */
export const minHexSecretLength = 16;

const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses a `whsec_` secret: strict base64 after the prefix that decodes to at least 16 bytes. The
 * messages never include the secret.
 */
export function parseWhsecSecret(value: string): ParsedSecret {
  if (!value.startsWith("whsec_")) {
    return { ok: false, message: "must start with whsec_ followed by the base64 key" };
  }
  const encoded = value.slice("whsec_".length);
  if (encoded.length === 0 || !strictBase64.test(encoded)) {
    return { ok: false, message: "is not valid base64 after whsec_; copy the secret exactly as the provider shows it" };
  }
  const key = Uint8Array.fromBase64(encoded);
  if (key.length < minWhsecKeyBytes) {
    return {
      ok: false,
      message: `decodes to ${key.length} bytes; at least ${minWhsecKeyBytes} are required`,
    };
  }
  return { ok: true, key };
}

/** Parses a hex-HMAC secret, whose key is its UTF-8 bytes. Short or padded secrets are refused. */
export function parseHexSecret(value: string): ParsedSecret {
  if (value.trim() !== value) {
    return { ok: false, message: "has leading or trailing whitespace; remove it" };
  }
  if (value.length < minHexSecretLength) {
    return {
      ok: false,
      message: `is ${value.length} characters long; use at least ${minHexSecretLength} (a 64-character random hex string is recommended)`,
    };
  }
  return { ok: true, key: new TextEncoder().encode(value) };
}

export function parseSecret(kind: SecretKind, value: string): ParsedSecret {
  return kind === "hex" ? parseHexSecret(value) : parseWhsecSecret(value);
}

/** Generates a new random secret of the given kind, with 32 bytes of entropy. */
export function generateSecret(kind: SecretKind): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return kind === "hex" ? bytes.toHex() : `whsec_${bytes.toBase64()}`;
}
