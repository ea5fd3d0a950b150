import { describe, expect, test } from "bun:test";
import { parseHexSignature, type SigningKey, signHex, verifyHexSignature } from "../../src";

const encoder = new TextEncoder();
const headerName = "X-Surge-Signature";
const secret = "surge-signature-test-secret-0123";
const otherSecret = "another-signature-secret-456789";
const key: SigningKey = { id: "whs_current", key: encoder.encode(secret) };
const otherKey: SigningKey = { id: "whs_other", key: encoder.encode(otherSecret) };
const body = encoder.encode('{"type":"payment.confirmed","data":{"id":"pay_1","external_id":"inv_1"}}');
const signature = signHex(secret, body);

function hmacHex(secretValue: string, bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256", encoder.encode(secretValue)).update(bytes).digest("hex");
}

function hmacBase64(secretValue: string, bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256", encoder.encode(secretValue)).update(bytes).digest("base64");
}

function withByteChanged(bytes: Uint8Array, index: number): Uint8Array {
  const changed = bytes.slice();
  changed[index] = (changed[index] ?? 0) ^ 0x01;
  return changed;
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

describe("signHex", () => {
  test("matches an independent HMAC-SHA256", () => {
    const expected = hmacHex(secret, body);

    const signed = signHex(secret, body);

    expect(signed).toBe(expected);
    expect(signed).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("parseHexSignature", () => {
  const digest = Uint8Array.fromHex(signature);

  const accepted: { name: string; header: string }[] = [
    { name: "lower-case hex", header: signature },
    { name: "upper-case hex", header: signature.toUpperCase() },
    { name: "mixed-case hex", header: `${signature.slice(0, 32).toUpperCase()}${signature.slice(32)}` },
    { name: "sha256= prefix", header: `sha256=${signature}` },
    { name: "SHA256= prefix", header: `SHA256=${signature}` },
    { name: "Sha256= prefix", header: `Sha256=${signature}` },
    { name: "surrounding whitespace", header: ` \t${signature}\r\n ` },
    { name: "prefix and whitespace", header: `  sha256=${signature.toUpperCase()}\t` },
  ];

  for (const { name, header } of accepted) {
    test(`accepts ${name}`, () => {
      const parsed = parseHexSignature(header);

      expect(parsed).toEqual(digest);
    });
  }
});

describe("verifyHexSignature", () => {
  test("valid signature returns its key", () => {
    const result = verifyHexSignature(body, signature, [key], headerName);

    expect(result).toEqual({ ok: true, keyId: key.id });
  });

  const acceptedHeaders: { name: string; header: string }[] = [
    { name: "upper-case hex", header: signature.toUpperCase() },
    { name: "sha256= prefix", header: `sha256=${signature}` },
    { name: "SHA256= prefix", header: `SHA256=${signature.toUpperCase()}` },
    { name: "surrounding whitespace", header: `  ${signature}\t` },
    { name: "prefix with whitespace", header: ` sha256=${signature} ` },
  ];

  for (const { name, header } of acceptedHeaders) {
    test(`accepts ${name}`, () => {
      const result = verifyHexSignature(body, header, [key], headerName);

      expect(result).toEqual({ ok: true, keyId: key.id });
    });
  }

  const missingHeaders: { name: string; header: string | null }[] = [
    { name: "absent header", header: null },
    { name: "empty header", header: "" },
    { name: "whitespace-only header", header: " \t " },
  ];

  for (const { name, header } of missingHeaders) {
    test(`${name} is missing_signature`, () => {
      const result = verifyHexSignature(body, header, [key], headerName);

      expect(result.ok).toBe(false);
      expect(result.ok ? null : result.reason).toBe("missing_signature");
      expect(result.ok ? "" : result.message).toContain(headerName);
    });
  }

  const hostileHeaders: { name: string; header: string }[] = [
    { name: "63 hex digits", header: signature.slice(0, 63) },
    { name: "65 hex digits", header: `${signature}0` },
    { name: "128 hex digits", header: `${signature}${signature}` },
    { name: "32 hex digits", header: signature.slice(0, 32) },
    { name: "prefix only", header: "sha256=" },
    { name: "prefix then whitespace", header: "sha256=   " },
    { name: "whitespace after prefix", header: `sha256= ${signature}` },
    { name: "prefix twice", header: `sha256=sha256=${signature}` },
    { name: "sha1= prefix", header: `sha1=${signature}` },
    { name: "0x prefix", header: `0x${signature}` },
    { name: "non-hex letter", header: `${signature.slice(0, 63)}g` },
    { name: "non-hex punctuation", header: `${signature.slice(0, 63)}-` },
    { name: "e with acute accent", header: `${signature.slice(0, 63)}é` },
    { name: "emoji in place of digits", header: `${signature.slice(0, 62)}🔑` },
    { name: "full-width digit", header: `${signature.slice(0, 63)}\uFF10` },
    { name: "base64 of the digest", header: hmacBase64(secret, body) },
    { name: "base64 with prefix", header: `sha256=${hmacBase64(secret, body)}` },
    { name: "two signatures with comma", header: `${signature},${signature}` },
    { name: "two signatures with space", header: `${signature} ${signature}` },
    { name: "two prefixed signatures", header: `sha256=${signature}, sha256=${signature}` },
    { name: "NUL replacing a digit", header: `${signature.slice(0, 63)}\0` },
    { name: "NUL inside", header: `${signature.slice(0, 32)}\0${signature.slice(32)}` },
    { name: "trailing NUL", header: `${signature}\0` },
    { name: "newline inside", header: `${signature.slice(0, 32)}\n${signature.slice(32)}` },
    { name: "very long header", header: "a".repeat(100_000) },
  ];

  for (const { name, header } of hostileHeaders) {
    test(`rejects ${name}`, () => {
      let result: ReturnType<typeof verifyHexSignature> | undefined;

      const verify = () => {
        result = verifyHexSignature(body, header, [key], headerName);
      };

      expect(verify).not.toThrow();
      expect(result?.ok).toBe(false);
      expect(result?.ok === false ? result.reason : null).toBe("invalid_signature");
      expect(result?.ok === false ? result.message : "").toContain(headerName);
      expect(result?.ok === false ? result.message : "").not.toContain(signature);
      expect(parseHexSignature(header)).toBeNull();
    });
  }

  test("different secret is invalid", () => {
    const forged = signHex(otherSecret, body);

    const result = verifyHexSignature(body, forged, [key], headerName);

    expect(result.ok).toBe(false);
    expect(result.ok ? null : result.reason).toBe("invalid_signature");
    expect(result.ok ? "" : result.message).toContain("does not match");
  });

  test("no keys is invalid", () => {
    const result = verifyHexSignature(body, signature, [], headerName);

    expect(result.ok).toBe(false);
    expect(result.ok ? null : result.reason).toBe("invalid_signature");
  });

  test("second matching key returns its id", () => {
    const header = signHex(otherSecret, body);

    const result = verifyHexSignature(body, header, [key, otherKey], headerName);

    expect(result).toEqual({ ok: true, keyId: otherKey.id });
  });

  test("first matching key wins", () => {
    const duplicate: SigningKey = { id: "env", key: encoder.encode(secret) };

    const result = verifyHexSignature(body, signature, [key, duplicate], headerName);

    expect(result).toEqual({ ok: true, keyId: key.id });
  });
});

describe("verifyHexSignature body bytes", () => {
  const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
  const bodies: { name: string; bytes: Uint8Array }[] = [
    { name: "JSON with escapes", bytes: encoder.encode('{"note":"line\\nbreak \\"quoted\\" \\u00e9 \\t"}') },
    { name: "escaped slashes", bytes: encoder.encode('{"url":"https:\\/\\/example.com\\/pay\\/1"}') },
    { name: "non-ASCII text", bytes: encoder.encode('{"name":"Zoë Ångström 東京 🙂"}') },
    { name: "leading UTF-8 BOM", bytes: concatBytes(bom, encoder.encode('{"type":"payment.confirmed"}')) },
    { name: "trailing CRLF", bytes: encoder.encode('{"type":"payment.confirmed"}\r\n') },
    { name: "invalid UTF-8", bytes: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) },
    { name: "empty body", bytes: new Uint8Array() },
  ];

  for (const { name, bytes } of bodies) {
    test(`${name} verifies as received`, () => {
      const header = signHex(secret, bytes);

      const result = verifyHexSignature(bytes, header, [key], headerName);

      expect(result).toEqual({ ok: true, keyId: key.id });
    });

    if (bytes.length === 0) {
      continue;
    }

    test(`${name} with one byte changed fails`, () => {
      const header = signHex(secret, bytes);
      const positions = [0, Math.floor(bytes.length / 2), bytes.length - 1];

      const results = positions.map((index) =>
        verifyHexSignature(withByteChanged(bytes, index), header, [key], headerName),
      );

      for (const result of results) {
        expect(result.ok).toBe(false);
        expect(result.ok ? null : result.reason).toBe("invalid_signature");
      }
    });
  }

  test("BOM stripped body fails", () => {
    const withBom = concatBytes(bom, encoder.encode('{"a":1}'));
    const header = signHex(secret, withBom);

    const result = verifyHexSignature(withBom.slice(bom.length), header, [key], headerName);

    expect(result.ok).toBe(false);
  });

  test("CRLF stripped body fails", () => {
    const withCrlf = encoder.encode('{"a":1}\r\n');
    const header = signHex(secret, withCrlf);

    const result = verifyHexSignature(encoder.encode('{"a":1}'), header, [key], headerName);

    expect(result.ok).toBe(false);
  });

  test("reserialized JSON fails", () => {
    const original = encoder.encode('{"url":"https:\\/\\/example.com","name":"\\u00e9"}');
    const header = signHex(secret, original);
    const reserialized = encoder.encode(JSON.stringify(JSON.parse(new TextDecoder().decode(original))));

    const result = verifyHexSignature(reserialized, header, [key], headerName);

    expect(reserialized).not.toEqual(original);
    expect(result.ok).toBe(false);
  });
});
