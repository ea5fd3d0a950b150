import { timingSafeEqual } from "node:crypto";

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const hasher = new Bun.CryptoHasher("sha256", key);
  for (const part of parts) {
    hasher.update(part);
  }
  return hasher.digest();
}

/** Compares two byte arrays in time that depends only on their length. */
export function constantTimeEqual(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && timingSafeEqual(left, right);
}

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}
