import { describe, expect, test } from "bun:test";
import { ConfigurationError, decodeEncryptionKey, SecretCipher } from "../../src";

const plaintext = "whsec_c2VjcmV0LXZhbHVlLWZvci1jaXBoZXItdGVzdHM=";
const associatedData = "webhook_secrets:whs_0001:resend";
const nonceBytes = 12;
const tagBytes = 16;

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  for (let position = 0; position + needle.length <= haystack.length; position++) {
    if (needle.every((byte, offset) => haystack[position + offset] === byte)) {
      return true;
    }
  }
  return false;
}

describe("SecretCipher", () => {
  test("round trip returns the plaintext", async () => {
    const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());

    const sealed = await cipher.encrypt(plaintext, associatedData);
    const opened = await cipher.decrypt(sealed, associatedData);

    expect(opened).toBe(plaintext);
  });

  test("sealed bytes hide the plaintext", async () => {
    const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
    const plaintextBytes = new TextEncoder().encode(plaintext);

    const sealed = await cipher.encrypt(plaintext, associatedData);

    expect(sealed.length).toBe(nonceBytes + plaintextBytes.length + tagBytes);
    expect(contains(sealed, plaintextBytes)).toBe(false);
    expect(contains(sealed, plaintextBytes.slice(6, 22))).toBe(false);
  });

  test("each encryption uses a new nonce", async () => {
    const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());

    const first = await cipher.encrypt(plaintext, associatedData);
    const second = await cipher.encrypt(plaintext, associatedData);

    expect(first.slice(0, nonceBytes)).not.toEqual(second.slice(0, nonceBytes));
    expect(first).not.toEqual(second);
  });

  test("non-ASCII plaintext survives", async () => {
    const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
    const value = "clé-secrète-東京-🔑-0123456789";

    const opened = await cipher.decrypt(await cipher.encrypt(value, associatedData), associatedData);

    expect(opened).toBe(value);
  });

  test("wrong key fails", async () => {
    const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
    const other = await SecretCipher.fromBase64(SecretCipher.generateKey());
    const sealed = await cipher.encrypt(plaintext, associatedData);

    const opened = other.decrypt(sealed, associatedData);

    await expect(opened).rejects.toThrow();
  });

  const movedTo: { name: string; associatedData: string }[] = [
    { name: "another row id", associatedData: "webhook_secrets:whs_0002:resend" },
    { name: "another source", associatedData: "webhook_secrets:whs_0001:openai" },
    { name: "empty associated data", associatedData: "" },
  ];

  for (const target of movedTo) {
    test(`ciphertext moved to ${target.name} fails`, async () => {
      const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
      const sealed = await cipher.encrypt(plaintext, associatedData);

      const opened = cipher.decrypt(sealed, target.associatedData);

      await expect(opened).rejects.toThrow();
    });
  }

  const tamperings: { name: string; tamper: (sealed: Uint8Array) => Uint8Array }[] = [
    { name: "changed nonce byte", tamper: (sealed) => flipByte(sealed, 0) },
    { name: "changed ciphertext byte", tamper: (sealed) => flipByte(sealed, nonceBytes + 3) },
    { name: "changed tag byte", tamper: (sealed) => flipByte(sealed, sealed.length - 1) },
    { name: "truncated tag", tamper: (sealed) => sealed.slice(0, sealed.length - 1) },
    { name: "nonce only", tamper: (sealed) => sealed.slice(0, nonceBytes) },
    { name: "empty input", tamper: () => new Uint8Array() },
  ];

  for (const { name, tamper } of tamperings) {
    test(`${name} fails`, async () => {
      const cipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
      const sealed = await cipher.encrypt(plaintext, associatedData);

      const opened = cipher.decrypt(tamper(sealed), associatedData);

      await expect(opened).rejects.toThrow();
    });
  }

  test("same key decrypts after reimport", async () => {
    const encodedKey = SecretCipher.generateKey();
    const sealed = await (await SecretCipher.fromBase64(encodedKey)).encrypt(plaintext, associatedData);

    const reimported = await SecretCipher.fromBase64(encodedKey);

    expect(await reimported.decrypt(sealed, associatedData)).toBe(plaintext);
  });

  test("fromBase64 rejects a bad key", async () => {
    const imported = SecretCipher.fromBase64("too-short");

    await expect(imported).rejects.toBeInstanceOf(ConfigurationError);
  });
});

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const changed = bytes.slice();
  changed[index] = (changed[index] ?? 0) ^ 0x01;
  return changed;
}

describe("decodeEncryptionKey", () => {
  const key = Uint8Array.from({ length: 32 }, (_, index) => 250 - index * 3);

  const accepted: { name: string; encoded: string }[] = [
    { name: "padded base64", encoded: key.toBase64() },
    { name: "base64url without padding", encoded: key.toBase64({ alphabet: "base64url", omitPadding: true }) },
    { name: "base64url with padding", encoded: key.toBase64({ alphabet: "base64url" }) },
    { name: "surrounding whitespace", encoded: ` ${key.toBase64()}\n` },
  ];

  for (const { name, encoded } of accepted) {
    test(`accepts ${name}`, () => {
      const decoded = decodeEncryptionKey(encoded);

      expect(decoded).toEqual(key);
    });
  }

  test("generated key decodes to 32 bytes", () => {
    const decoded = decodeEncryptionKey(SecretCipher.generateKey());

    expect(decoded.length).toBe(32);
  });

  const rejected: { name: string; encoded: string; message: string }[] = [
    { name: "empty string", encoded: "", message: "decodes to 0 bytes" },
    { name: "non-base64 characters", encoded: "not a base64 key!!", message: "is not valid base64" },
    { name: "16-byte key", encoded: key.slice(0, 16).toBase64(), message: "decodes to 16 bytes" },
    { name: "31-byte key", encoded: key.slice(0, 31).toBase64(), message: "decodes to 31 bytes" },
    {
      name: "33-byte key",
      encoded: Uint8Array.from([...key, 1]).toBase64(),
      message: "decodes to 33 bytes",
    },
    { name: "hex key", encoded: key.toHex(), message: "it must be 32" },
    { name: "padding in the middle", encoded: `AAAA=${key.toBase64()}`, message: "is not valid base64" },
  ];

  for (const { name, encoded, message } of rejected) {
    test(`rejects ${name}`, () => {
      let error: unknown;

      try {
        decodeEncryptionKey(encoded);
      } catch (caught) {
        error = caught;
      }

      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error instanceof Error ? error.message : "").toContain(message);
      expect(error instanceof Error ? error.message : "").toContain("openssl rand -base64 32");
      if (encoded.length >= 8) {
        expect(error instanceof Error ? error.message : "").not.toContain(encoded);
      }
    });
  }
});
