import { describe, expect, test } from "bun:test";
import { Webhook as StandardWebhook } from "standardwebhooks";
import {
  generateSecret,
  minHexSecretLength,
  minWhsecKeyBytes,
  parseHexSecret,
  parseSecret,
  parseWhsecSecret,
  signStandardWebhook,
} from "../../src";

const keyBytes = Uint8Array.from({ length: 32 }, (_, index) => (index * 37 + 11) % 256);
const encodedKey = keyBytes.toBase64();

describe("parseWhsecSecret", () => {
  test("decodes the base64 key", () => {
    const parsed = parseWhsecSecret(`whsec_${encodedKey}`);

    expect(parsed).toEqual({ ok: true, key: keyBytes });
  });

  test("decodes a 24-byte Svix key", () => {
    const svixKey = keyBytes.slice(0, 24);

    const parsed = parseWhsecSecret(`whsec_${svixKey.toBase64()}`);

    expect(parsed).toEqual({ ok: true, key: svixKey });
  });

  test("accepts the minimum key length", () => {
    const shortest = keyBytes.slice(0, minWhsecKeyBytes);

    const parsed = parseWhsecSecret(`whsec_${shortest.toBase64()}`);

    expect(minWhsecKeyBytes).toBe(16);
    expect(parsed).toEqual({ ok: true, key: shortest });
  });

  test("key signs like standardwebhooks", () => {
    const secret = `whsec_${encodedKey}`;
    const body = new TextEncoder().encode('{"type":"email.sent"}');
    const at = new Date("2026-03-01T12:00:00Z");
    const parsed = parseWhsecSecret(secret);

    const ours = parsed.ok ? signStandardWebhook(parsed.key, "msg_1", at.getTime() / 1000, body) : null;

    expect(ours).toBe(new StandardWebhook(secret).sign("msg_1", at, body));
  });

  const rejected: { name: string; secret: string; message: string }[] = [
    { name: "no prefix", secret: encodedKey, message: "must start with whsec_" },
    { name: "upper-case prefix", secret: `WHSEC_${encodedKey}`, message: "must start with whsec_" },
    { name: "leading space", secret: ` whsec_${encodedKey}`, message: "must start with whsec_" },
    { name: "nothing after prefix", secret: "whsec_", message: "is not valid base64" },
    { name: "non-base64 characters", secret: `whsec_${encodedKey.slice(0, 40)}!@#$`, message: "is not valid base64" },
    {
      name: "base64url alphabet",
      secret: `whsec_${"-_".repeat(20)}AAAA`,
      message: "is not valid base64",
    },
    {
      name: "whitespace inside",
      secret: `whsec_${encodedKey.slice(0, 20)} ${encodedKey.slice(20)}`,
      message: "is not valid base64",
    },
    { name: "trailing newline", secret: `whsec_${encodedKey}\n`, message: "is not valid base64" },
    { name: "trailing space", secret: `whsec_${encodedKey} `, message: "is not valid base64" },
    {
      name: "missing padding",
      secret: `whsec_${encodedKey.replace(/=+$/, "")}`,
      message: "is not valid base64",
    },
    { name: "extra padding", secret: `whsec_${encodedKey}=`, message: "is not valid base64" },
    {
      name: "padding in the middle",
      secret: `whsec_${encodedKey.slice(0, 4)}=${encodedKey.slice(5)}`,
      message: "is not valid base64",
    },
    { name: "non-ASCII text", secret: `whsec_${encodedKey.slice(0, 40)}éééé`, message: "is not valid base64" },
    {
      name: "fifteen-byte key",
      secret: `whsec_${keyBytes.slice(0, 15).toBase64()}`,
      message: "decodes to 15 bytes; at least 16 are required",
    },
    { name: "one-byte key", secret: "whsec_AA==", message: "decodes to 1 bytes" },
  ];

  for (const { name, secret, message } of rejected) {
    test(`rejects ${name}`, () => {
      const encoded = secret.replace(/^\s*whsec_/i, "").trim();

      const parsed = parseWhsecSecret(secret);

      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? "" : parsed.message).toContain(message);
      expect(parsed.ok ? "" : parsed.message).not.toContain(encodedKey.slice(0, 12));
      if (encoded.length >= 4) {
        expect(parsed.ok ? "" : parsed.message).not.toContain(encoded);
      }
    });
  }
});

describe("parseHexSecret", () => {
  test("key is the UTF-8 bytes", () => {
    const secret = "surge-secret-0123456789abcdef";

    const parsed = parseHexSecret(secret);

    expect(parsed).toEqual({ ok: true, key: new TextEncoder().encode(secret) });
  });

  test("accepts the minimum length", () => {
    const secret = "x".repeat(minHexSecretLength);

    const parsed = parseHexSecret(secret);

    expect(minHexSecretLength).toBe(16);
    expect(parsed.ok).toBe(true);
  });

  test("non-ASCII secret keeps UTF-8 bytes", () => {
    const secret = "clé-secrète-東京-0123456789";

    const parsed = parseHexSecret(secret);

    expect(parsed).toEqual({ ok: true, key: new TextEncoder().encode(secret) });
  });

  const rejected: { name: string; secret: string; message: string }[] = [
    { name: "fifteen characters", secret: "abcdef0123456789".slice(0, 15), message: "is 15 characters long" },
    { name: "empty secret", secret: "", message: "is 0 characters long" },
    { name: "leading space", secret: " 0123456789abcdef0123", message: "whitespace" },
    { name: "trailing space", secret: "0123456789abcdef0123 ", message: "whitespace" },
    { name: "trailing newline", secret: "0123456789abcdef0123\n", message: "whitespace" },
    { name: "leading tab", secret: "\t0123456789abcdef0123", message: "whitespace" },
    { name: "trailing CRLF", secret: "0123456789abcdef0123\r\n", message: "whitespace" },
    { name: "no-break space", secret: "0123456789abcdef0123\u00A0", message: "whitespace" },
  ];

  for (const { name, secret, message } of rejected) {
    test(`rejects ${name}`, () => {
      const parsed = parseHexSecret(secret);

      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? "" : parsed.message).toContain(message);
      if (secret.trim() !== "") {
        expect(parsed.ok ? "" : parsed.message).not.toContain(secret.trim());
      }
    });
  }
});

describe("parseSecret", () => {
  test("hex kind takes any long string", () => {
    const secret = `whsec_${encodedKey}`;

    const parsed = parseSecret("hex", secret);

    expect(parsed).toEqual({ ok: true, key: new TextEncoder().encode(secret) });
  });

  test("whsec kind decodes base64", () => {
    const parsed = parseSecret("whsec", `whsec_${encodedKey}`);

    expect(parsed).toEqual({ ok: true, key: keyBytes });
  });

  test("whsec kind rejects plain strings", () => {
    const parsed = parseSecret("whsec", "0123456789abcdef0123456789abcdef");

    expect(parsed.ok).toBe(false);
  });
});

describe("generateSecret", () => {
  test("hex secret is 64 hex digits", () => {
    const secret = generateSecret("hex");

    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(parseHexSecret(secret).ok).toBe(true);
  });

  test("whsec secret holds 32 bytes", () => {
    const secret = generateSecret("whsec");

    const parsed = parseWhsecSecret(secret);

    expect(secret.startsWith("whsec_")).toBe(true);
    expect(parsed.ok ? parsed.key.length : 0).toBe(32);
  });

  test("secrets differ between calls", () => {
    const first = generateSecret("whsec");
    const second = generateSecret("whsec");

    expect(first).not.toBe(second);
  });
});
