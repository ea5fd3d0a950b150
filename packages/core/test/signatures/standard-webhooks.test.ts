import { describe, expect, test } from "bun:test";
import { Webhook as StandardWebhook, WebhookVerificationError } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import {
  parseWhsecSecret,
  type SigningKey,
  signStandardWebhook,
  standardWebhookHeaderNames,
  svixHeaderNames,
  type VerificationResult,
  verifyStandardWebhook,
} from "../../src";

const encoder = new TextEncoder();
const now = new Date("2026-03-01T12:00:00Z");
const nowSeconds = Math.floor(now.getTime() / 1000);
const toleranceSeconds = 300;
const messageId = "msg_2yZwUhtgs5Ai8T9yRQJXA";

const secret = `whsec_${Uint8Array.from({ length: 32 }, (_, index) => index * 7).toBase64()}`;
const otherSecret = `whsec_${Uint8Array.from({ length: 24 }, (_, index) => 255 - index).toBase64()}`;
const key: SigningKey = { id: "whs_current", key: decodeSecret(secret) };
const otherKey: SigningKey = { id: "whs_other", key: decodeSecret(otherSecret) };
const body = encoder.encode('{"type":"response.completed","data":{"id":"resp_1"}}');

const headerFamilies = [
  { family: "Standard Webhooks", names: standardWebhookHeaderNames },
  { family: "Svix", names: svixHeaderNames },
] as const;

function decodeSecret(value: string): Uint8Array {
  const parsed = parseWhsecSecret(value);
  if (!parsed.ok) {
    throw new Error(`test secret is invalid: ${parsed.message}`);
  }
  return parsed.key;
}

function buildHeaders(
  names: { id: string; timestamp: string; signature: string },
  values: { id?: string; timestamp?: string; signature: string },
): Headers {
  return new Headers({
    [names.id]: values.id ?? messageId,
    [names.timestamp]: values.timestamp ?? String(nowSeconds),
    [names.signature]: values.signature,
  });
}

/**
 * Wraps headers so that `name` reads as `value`, even a value that Headers rejects (NUL or characters
 * above U+00FF), so the verifier receives the hostile string unchanged. `name` must be lower case.
 */
function overrideHeader(headers: Headers, name: string, value: string): Headers {
  return new Proxy(headers, {
    get(target, property) {
      if (property === "get") {
        return (requested: string) => (requested.toLowerCase() === name ? value : target.get(requested));
      }
      return Reflect.get(target, property, target);
    },
  });
}

function verify(
  headers: Headers,
  options: {
    bytes?: Uint8Array;
    keys?: readonly SigningKey[];
    names?: typeof standardWebhookHeaderNames;
    at?: Date;
    tolerance?: number;
  } = {},
): VerificationResult {
  return verifyStandardWebhook({
    body: options.bytes ?? body,
    headers,
    headerNames: options.names ?? standardWebhookHeaderNames,
    keys: options.keys ?? [key],
    now: options.at ?? now,
    toleranceSeconds: options.tolerance ?? toleranceSeconds,
  });
}

function failure(result: VerificationResult): { reason: string | null; message: string } {
  return result.ok ? { reason: null, message: "" } : { reason: result.reason, message: result.message };
}

/** Signs the body with our own signer at the default id and timestamp, for cases about the header's shape. */
function ownSignature(bytes: Uint8Array = body, timestamp: number = nowSeconds): string {
  return signStandardWebhook(key.key, messageId, timestamp, bytes);
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

const bodies: { name: string; bytes: Uint8Array }[] = [
  { name: "JSON with escapes", bytes: encoder.encode('{"note":"line\\nbreak \\"quoted\\" \\u00e9 \\t"}') },
  { name: "escaped slashes", bytes: encoder.encode('{"url":"https:\\/\\/example.com\\/a\\/b"}') },
  { name: "non-ASCII text", bytes: encoder.encode('{"subject":"Zoë Ångström 東京 🙂"}') },
  {
    name: "leading UTF-8 BOM",
    bytes: concatBytes(new Uint8Array([0xef, 0xbb, 0xbf]), encoder.encode('{"type":"email.delivered"}')),
  },
  { name: "trailing CRLF", bytes: encoder.encode('{"type":"email.delivered"}\r\n') },
];

describe("official packages as signers", () => {
  test("standardwebhooks signature verifies", () => {
    const signature = new StandardWebhook(secret).sign(messageId, now, body);
    const headers = buildHeaders(standardWebhookHeaderNames, { signature });

    const result = verify(headers);

    expect(result).toEqual({ ok: true, keyId: key.id });
  });

  test("svix signature verifies", () => {
    const signature = new SvixWebhook(secret).sign(messageId, now, Buffer.from(body));
    const headers = buildHeaders(svixHeaderNames, { signature });

    const result = verify(headers, { names: svixHeaderNames });

    expect(result).toEqual({ ok: true, keyId: key.id });
  });

  test("svix 24-byte secret verifies", () => {
    const signature = new SvixWebhook(otherSecret).sign(messageId, now, Buffer.from(body));
    const headers = buildHeaders(svixHeaderNames, { signature });

    const result = verify(headers, { names: svixHeaderNames, keys: [key, otherKey] });

    expect(result).toEqual({ ok: true, keyId: otherKey.id });
  });

  test("signStandardWebhook matches standardwebhooks", () => {
    const theirs = new StandardWebhook(secret).sign(messageId, now, body);

    const ours = signStandardWebhook(key.key, messageId, nowSeconds, body);

    expect(ours).toBe(theirs);
  });

  for (const { name, bytes } of bodies) {
    test(`standardwebhooks ${name} verifies`, () => {
      const signature = new StandardWebhook(secret).sign(messageId, now, bytes);
      const headers = buildHeaders(standardWebhookHeaderNames, { signature });

      const result = verify(headers, { bytes });

      expect(result).toEqual({ ok: true, keyId: key.id });
    });

    test(`svix ${name} verifies`, () => {
      const signature = new SvixWebhook(secret).sign(messageId, now, Buffer.from(bytes));
      const headers = buildHeaders(svixHeaderNames, { signature });

      const result = verify(headers, { bytes, names: svixHeaderNames });

      expect(result).toEqual({ ok: true, keyId: key.id });
    });

    test(`${name} with one byte changed fails`, () => {
      const signature = new StandardWebhook(secret).sign(messageId, now, bytes);
      const headers = buildHeaders(standardWebhookHeaderNames, { signature });
      const positions = [0, Math.floor(bytes.length / 2), bytes.length - 1];

      const results = positions.map((index) => verify(headers, { bytes: withByteChanged(bytes, index) }));

      for (const result of results) {
        expect(result.ok).toBe(false);
        expect(failure(result).reason).toBe("invalid_signature");
      }
    });
  }
});

describe("official packages as verifiers", () => {
  // Both packages check the timestamp against the real time, so these signatures use it too.
  const realNow = () => Math.floor(Date.now() / 1000);

  for (const { name, bytes } of [{ name: "plain JSON", bytes: body }, ...bodies]) {
    test(`standardwebhooks accepts ${name}`, () => {
      const timestamp = realNow();
      const headers = {
        "webhook-id": messageId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signStandardWebhook(key.key, messageId, timestamp, bytes),
      };

      const verifyTheirs = () => new StandardWebhook(secret).verify(bytes, headers, { jsonParse: false });

      expect(verifyTheirs).not.toThrow();
    });

    test(`svix accepts ${name}`, () => {
      const timestamp = realNow();
      const headers = {
        "svix-id": messageId,
        "svix-timestamp": String(timestamp),
        "svix-signature": signStandardWebhook(key.key, messageId, timestamp, bytes),
      };

      const verifyTheirs = () => new SvixWebhook(secret).verify(Buffer.from(bytes), headers);

      expect(verifyTheirs).not.toThrow();
    });
  }

  test("standardwebhooks rejects a changed body", () => {
    const timestamp = realNow();
    const headers = {
      "webhook-id": messageId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signStandardWebhook(key.key, messageId, timestamp, body),
    };

    const verifyTheirs = () => new StandardWebhook(secret).verify(withByteChanged(body, 0), headers);

    expect(verifyTheirs).toThrow(WebhookVerificationError);
  });

  test("svix rejects another secret", () => {
    const timestamp = realNow();
    const headers = {
      "svix-id": messageId,
      "svix-timestamp": String(timestamp),
      "svix-signature": signStandardWebhook(key.key, messageId, timestamp, body),
    };

    const verifyTheirs = () => new SvixWebhook(otherSecret).verify(Buffer.from(body), headers);

    expect(verifyTheirs).toThrow(WebhookVerificationError);
  });
});

describe("verifyStandardWebhook timestamps", () => {
  test("milliseconds are out of tolerance", () => {
    const milliseconds = "1767225600000";
    const at = new Date(1_767_225_600_000);
    const signature = signStandardWebhook(key.key, messageId, Number(milliseconds), body);
    const headers = buildHeaders(standardWebhookHeaderNames, { timestamp: milliseconds, signature });

    const result = verify(headers, { at });

    expect(result.ok).toBe(false);
    expect(failure(result).reason).toBe("timestamp_out_of_tolerance");
    expect(failure(result).message).toContain("milliseconds");
    expect(failure(result).message).toContain("future");
  });

  test("microseconds are out of tolerance", () => {
    const microseconds = String(nowSeconds * 1_000_000);
    const headers = buildHeaders(standardWebhookHeaderNames, { timestamp: microseconds, signature: ownSignature() });

    const result = verify(headers);

    expect(failure(result).reason).toBe("timestamp_out_of_tolerance");
    expect(failure(result).message).toContain("send Unix seconds");
  });

  test("zero is out of tolerance", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { timestamp: "0", signature: ownSignature(body, 0) });

    const result = verify(headers);

    expect(failure(result).reason).toBe("timestamp_out_of_tolerance");
    expect(failure(result).message).toContain("past");
    expect(failure(result).message).not.toContain("milliseconds");
  });

  const malformedTimestamps: { name: string; timestamp: string }[] = [
    { name: "123abc", timestamp: "123abc" },
    { name: "seconds then letters", timestamp: `${nowSeconds}abc` },
    { name: "seconds then dot zero", timestamp: `${nowSeconds}.0` },
    { name: "decimal fraction", timestamp: `${nowSeconds}.5` },
    { name: "exponent notation", timestamp: "1.7723664e9" },
    { name: "negative sign", timestamp: `-${nowSeconds}` },
    { name: "plus sign", timestamp: `+${nowSeconds}` },
    { name: "hex number", timestamp: `0x${nowSeconds.toString(16)}` },
    { name: "space inside", timestamp: `${String(nowSeconds).slice(0, 5)} ${String(nowSeconds).slice(5)}` },
    { name: "full-width digits", timestamp: "\uFF11\uFF17\uFF17\uFF12\uFF13\uFF16\uFF16\uFF14\uFF10\uFF10" },
    { name: "Arabic-Indic digits", timestamp: "\u0661\u0667\u0667\u0662\u0663\u0666\u0666\u0664\u0660\u0660" },
    { name: "NUL after seconds", timestamp: `${nowSeconds}\0` },
    { name: "ISO date", timestamp: now.toISOString() },
    { name: "21 digits", timestamp: "1".repeat(21) },
  ];

  for (const { name, timestamp } of malformedTimestamps) {
    test(`rejects ${name}`, () => {
      const signed = buildHeaders(standardWebhookHeaderNames, { signature: ownSignature() });
      const headers = overrideHeader(signed, standardWebhookHeaderNames.timestamp, timestamp);
      let result: VerificationResult | undefined;

      const run = () => {
        result = verify(headers);
      };

      expect(run).not.toThrow();
      expect(result?.ok).toBe(false);
      expect(result?.ok === false ? result.reason : null).toBe("invalid_signature");
      expect(result?.ok === false ? result.message : "").toContain("webhook-timestamp");
    });
  }

  test("timestamp signed with trailing garbage fails", () => {
    const timestamp = `${nowSeconds}abc`;
    const hasher = new Bun.CryptoHasher("sha256", key.key).update(`${messageId}.${timestamp}.`).update(body);
    const headers = buildHeaders(standardWebhookHeaderNames, { timestamp, signature: `v1,${hasher.digest("base64")}` });

    const result = verify(headers);

    expect(failure(result).reason).toBe("invalid_signature");
  });

  const skews: { name: string; skewSeconds: number; accepted: boolean; direction: string }[] = [
    { name: "just inside the past", skewSeconds: -toleranceSeconds, accepted: true, direction: "past" },
    { name: "just beyond the past", skewSeconds: -toleranceSeconds - 1, accepted: false, direction: "past" },
    { name: "far in the past", skewSeconds: -86_400, accepted: false, direction: "past" },
    { name: "just inside the future", skewSeconds: toleranceSeconds, accepted: true, direction: "future" },
    { name: "just beyond the future", skewSeconds: toleranceSeconds + 1, accepted: false, direction: "future" },
    { name: "far in the future", skewSeconds: 86_400, accepted: false, direction: "future" },
  ];

  for (const { name, skewSeconds, accepted, direction } of skews) {
    test(`${accepted ? "accepts" : "rejects"} ${name}`, () => {
      const signedAt = new Date(now.getTime() + skewSeconds * 1000);
      const signature = new StandardWebhook(secret).sign(messageId, signedAt, body);
      const timestamp = String(nowSeconds + skewSeconds);
      const headers = buildHeaders(standardWebhookHeaderNames, { timestamp, signature });

      const result = verify(headers);

      if (accepted) {
        expect(result).toEqual({ ok: true, keyId: key.id });
      } else {
        expect(failure(result).reason).toBe("timestamp_out_of_tolerance");
        expect(failure(result).message).toContain(`${Math.abs(skewSeconds)} seconds in the ${direction}`);
        expect(failure(result).message).toContain(`at most ${toleranceSeconds}`);
      }
    });
  }

  test("configured tolerance applies", () => {
    const signedAt = new Date(now.getTime() - 61_000);
    const signature = new StandardWebhook(secret).sign(messageId, signedAt, body);
    const headers = buildHeaders(standardWebhookHeaderNames, { timestamp: String(nowSeconds - 61), signature });

    const strict = verify(headers, { tolerance: 60 });
    const lenient = verify(headers, { tolerance: 61 });

    expect(failure(strict).reason).toBe("timestamp_out_of_tolerance");
    expect(lenient).toEqual({ ok: true, keyId: key.id });
  });

  test("fraction of a second is ignored", () => {
    const signature = new StandardWebhook(secret).sign(messageId, now, body);
    const headers = buildHeaders(standardWebhookHeaderNames, { signature });
    const laterInSecond = new Date(now.getTime() + toleranceSeconds * 1000 + 999);

    const result = verify(headers, { at: laterInSecond });

    expect(result).toEqual({ ok: true, keyId: key.id });
  });
});

describe("verifyStandardWebhook signature list", () => {
  const good = ownSignature();
  const goodDigest = good.slice("v1,".length);
  const badDigest = signStandardWebhook(otherKey.key, messageId, nowSeconds, body).slice("v1,".length);

  const acceptedLists: { name: string; header: string }[] = [
    { name: "single v1 entry", header: good },
    { name: "match after a wrong entry", header: `v1,${badDigest} ${good}` },
    { name: "match before a wrong entry", header: `${good} v1,${badDigest}` },
    { name: "match after v2 entry", header: `v2,${goodDigest} ${good}` },
    { name: "match after v1a entry", header: `v1a,${goodDigest} ${good}` },
    { name: "match after garbage", header: `garbage !!! ${good}` },
    { name: "tabs and double spaces", header: `v1,${badDigest}  \t ${good}` },
    { name: "surrounding whitespace", header: `  ${good}  ` },
  ];

  for (const { name, header } of acceptedLists) {
    test(`accepts ${name}`, () => {
      const headers = buildHeaders(standardWebhookHeaderNames, { signature: header });

      const result = verify(headers);

      expect(result).toEqual({ ok: true, keyId: key.id });
    });
  }

  const unknownVersions: { name: string; header: string }[] = [
    { name: "v2 only", header: `v2,${goodDigest}` },
    { name: "v1a only", header: `v1a,${goodDigest}` },
    { name: "v10 only", header: `v10,${goodDigest}` },
    { name: "upper-case V1", header: `V1,${goodDigest}` },
    { name: "v1 without comma", header: `v1${goodDigest}` },
    { name: "v1= separator", header: `v1=${goodDigest}` },
    { name: "bare digest", header: goodDigest },
    { name: "several unknown versions", header: `v0,${goodDigest} v2,${goodDigest} v1b,${goodDigest}` },
  ];

  for (const { name, header } of unknownVersions) {
    test(`rejects ${name}`, () => {
      const headers = buildHeaders(standardWebhookHeaderNames, { signature: header });

      const result = verify(headers);

      expect(result.ok).toBe(false);
      expect(failure(result).reason).toBe("invalid_signature");
      expect(failure(result).message).toContain("no v1 signature");
    });
  }

  const malformedEntries: { name: string; header: string }[] = [
    { name: "empty v1 entry", header: "v1," },
    { name: "non-base64 characters", header: "v1,!!!!not*base64!!!!" },
    { name: "digest without padding", header: `v1,${goodDigest.replace(/=+$/, "")}` },
    { name: "digest with extra padding", header: `v1,${goodDigest}==` },
    { name: "truncated digest", header: `v1,${goodDigest.slice(0, 20)}` },
    { name: "digest twice", header: `v1,${goodDigest}${goodDigest}` },
    { name: "hex digest", header: `v1,${Uint8Array.fromBase64(goodDigest).toHex()}` },
    { name: "comma-joined entries", header: `v1,${badDigest},v1,${goodDigest}` },
    { name: "non-ASCII entry", header: `v1,${goodDigest.slice(0, 40)}é===` },
    { name: "NUL in entry", header: `v1,${goodDigest.slice(0, 20)}\0${goodDigest.slice(20)}` },
    { name: "very long entry", header: `v1,${"A".repeat(50_000)}` },
  ];

  for (const { name, header } of malformedEntries) {
    test(`rejects ${name}`, () => {
      const signed = buildHeaders(standardWebhookHeaderNames, { signature: good });
      const headers = overrideHeader(signed, standardWebhookHeaderNames.signature, header);
      let result: VerificationResult | undefined;

      const run = () => {
        result = verify(headers);
      };

      expect(run).not.toThrow();
      expect(result?.ok).toBe(false);
      expect(result?.ok === false ? result.reason : null).toBe("invalid_signature");
    });
  }

  test("another secret is invalid", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { signature: `v1,${badDigest}` });

    const result = verify(headers);

    expect(failure(result).reason).toBe("invalid_signature");
    expect(failure(result).message).toContain("No webhook-signature entry matches");
  });

  test("no keys is invalid", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { signature: good });

    const result = verify(headers, { keys: [] });

    expect(failure(result).reason).toBe("invalid_signature");
  });

  test("second matching key returns its id", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { signature: `v1,${badDigest}` });

    const result = verify(headers, { keys: [key, otherKey] });

    expect(result).toEqual({ ok: true, keyId: otherKey.id });
  });

  test("signature for another id fails", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { id: "msg_other", signature: good });

    const result = verify(headers);

    expect(failure(result).reason).toBe("invalid_signature");
  });

  test("signature for another timestamp fails", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { timestamp: String(nowSeconds + 1), signature: good });

    const result = verify(headers);

    expect(failure(result).reason).toBe("invalid_signature");
  });

  test("message never contains the signature", () => {
    const headers = buildHeaders(standardWebhookHeaderNames, { signature: `v1,${badDigest}` });

    const result = verify(headers);

    expect(failure(result).message).not.toContain(badDigest);
    expect(failure(result).message).not.toContain(goodDigest);
  });
});

describe("verifyStandardWebhook missing headers", () => {
  for (const { family, names } of headerFamilies) {
    const all = [names.id, names.timestamp, names.signature];

    for (const missing of all) {
      test(`${family} without ${missing}`, () => {
        const headers = buildHeaders(names, { signature: ownSignature() });
        headers.delete(missing);

        const result = verify(headers, { names });

        expect(result.ok).toBe(false);
        expect(failure(result).reason).toBe("missing_signature");
        expect(failure(result).message).toContain(missing);
        for (const present of all.filter((name) => name !== missing)) {
          expect(failure(result).message).not.toContain(present);
        }
      });

      test(`${family} with blank ${missing}`, () => {
        const headers = buildHeaders(names, { signature: ownSignature() });
        headers.set(missing, "   ");

        const result = verify(headers, { names });

        expect(failure(result).reason).toBe("missing_signature");
        expect(failure(result).message).toContain(missing);
      });
    }

    test(`${family} without any header`, () => {
      const result = verify(new Headers(), { names });

      expect(failure(result).reason).toBe("missing_signature");
      for (const name of all) {
        expect(failure(result).message).toContain(name);
      }
    });

    test(`${family} ignores the other family`, () => {
      const other = names === svixHeaderNames ? standardWebhookHeaderNames : svixHeaderNames;
      const headers = buildHeaders(other, { signature: ownSignature() });

      const result = verify(headers, { names });

      expect(failure(result).reason).toBe("missing_signature");
    });
  }
});

describe("verifyStandardWebhook content type", () => {
  const contentTypes = [
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "image/png",
    null,
  ];

  for (const contentType of contentTypes) {
    test(`accepts ${contentType ?? "no content type"}`, () => {
      const headers = buildHeaders(svixHeaderNames, { signature: ownSignature() });
      if (contentType !== null) {
        headers.set("content-type", contentType);
      }

      const result = verify(headers, { names: svixHeaderNames });

      expect(headers.get("content-type")).toBe(contentType);
      expect(result).toEqual({ ok: true, keyId: key.id });
    });
  }
});
