import { ConfigurationError } from "../errors";

const nonceBytes = 12;

/**
 * Encrypts stored secrets with AES-256-GCM. The additional data binds each ciphertext to its row, so a
 * ciphertext copied to another secret's row does not decrypt.
 */
export class SecretCipher {
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** Imports a 32-byte key given as base64 (or base64url). */
  static async fromBase64(encoded: string): Promise<SecretCipher> {
    const raw = decodeKey(encoded);
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    return new SecretCipher(key);
  }

  static generateKey(): string {
    return crypto.getRandomValues(new Uint8Array(32)).toBase64();
  }

  async encrypt(plaintext: string, associatedData: string): Promise<Uint8Array> {
    const nonce = crypto.getRandomValues(new Uint8Array(nonceBytes));
    const ciphertext = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(associatedData) },
      this.#key,
      new TextEncoder().encode(plaintext),
    );
    const sealed = new Uint8Array(nonceBytes + ciphertext.byteLength);
    sealed.set(nonce);
    sealed.set(new Uint8Array(ciphertext), nonceBytes);
    return sealed;
  }

  /** Decrypts a sealed secret; throws when the key or the additional data does not match. */
  async decrypt(sealed: Uint8Array, associatedData: string): Promise<string> {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: sealed.slice(0, nonceBytes),
        additionalData: new TextEncoder().encode(associatedData),
      },
      this.#key,
      sealed.slice(nonceBytes),
    );
    return new TextDecoder().decode(plaintext);
  }
}

/** Decodes an AES-256 key from base64 or base64url; throws a ConfigurationError naming what is wrong. */
export function decodeKey(encoded: string): Uint8Array<ArrayBuffer> {
  const normalized = encoded.trim().replaceAll("-", "+").replaceAll("_", "/");
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = Uint8Array.fromBase64(normalized);
  } catch {
    throw new ConfigurationError("is not valid base64; generate one with: openssl rand -base64 32");
  }
  if (raw.length !== 32) {
    throw new ConfigurationError(`decodes to ${raw.length} bytes; it must be 32 (openssl rand -base64 32)`);
  }
  return raw;
}
