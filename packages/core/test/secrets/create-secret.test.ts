import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { webhookSecrets } from "@basalt/db";
import { eq } from "drizzle-orm";
import {
  ConfigurationError,
  createSecret,
  InvalidInputError,
  type Logger,
  type SecretContext,
  SecretStore,
  signHex,
  verifyHexSignature,
} from "../../src";
import { createTestContext, type TestContext, testSecrets } from "../support";

let ctx: TestContext;
const start = new Date("2026-03-01T12:00:00Z");
const encoder = new TextEncoder();

interface LogEntry {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function recordingLogger(entries: LogEntry[]): Logger {
  const logger: Logger = {
    debug: (fields, message) => entries.push({ level: "debug", fields, message }),
    info: (fields, message) => entries.push({ level: "info", fields, message }),
    warn: (fields, message) => entries.push({ level: "warn", fields, message }),
    error: (fields, message) => entries.push({ level: "error", fields, message }),
    child: () => logger,
  };
  return logger;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  for (let position = 0; position + needle.length <= haystack.length; position++) {
    if (needle.every((byte, offset) => haystack[position + offset] === byte)) {
      return true;
    }
  }
  return false;
}

async function readSecretRow(id: string) {
  const [row] = await ctx.db.select().from(webhookSecrets).where(eq(webhookSecrets.id, id));
  return row;
}

async function countSecretRows(): Promise<number> {
  const rows = await ctx.db.select({ id: webhookSecrets.id }).from(webhookSecrets);
  return rows.length;
}

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.database.destroy();
});

beforeEach(async () => {
  await ctx.db.delete(webhookSecrets);
  ctx.secrets.invalidate();
  ctx.clock.set(start);
});

describe("createSecret", () => {
  test("ciphertext hides the plaintext", async () => {
    const created = await createSecret(ctx, { source: "surge" });

    const row = await readSecretRow(created.id);
    const plaintext = encoder.encode(created.value);

    expect(row?.ciphertext.length).toBeGreaterThan(plaintext.length);
    expect(contains(row?.ciphertext ?? plaintext, plaintext)).toBe(false);
    expect(contains(row?.ciphertext ?? plaintext, plaintext.slice(0, 16))).toBe(false);
    expect(row?.fingerprint).toBe(new Bun.CryptoHasher("sha256").update(created.value).digest("hex").slice(0, 12));
    expect(row?.fingerprint).toBe(created.fingerprint);
    expect(row?.source).toBe("surge");
    expect(row?.expiresAt).toBeNull();
    expect(row?.revokedAt).toBeNull();
  });

  test("ciphertext decrypts to the value", async () => {
    const created = await createSecret(ctx, { source: "resend" });
    const row = await readSecretRow(created.id);
    const cipher = ctx.secrets.cipher;

    const opened =
      cipher === null || row === undefined
        ? null
        : await cipher.decrypt(row.ciphertext, `webhook_secrets:${created.id}:resend`);

    expect(opened).toBe(created.value);
  });

  test("keysFor adds it next to env", async () => {
    const before = await ctx.secrets.keysFor("surge");

    const created = await createSecret(ctx, { source: "surge" });
    const after = await ctx.secrets.keysFor("surge");

    expect(before.map((key) => key.id)).toEqual(["env"]);
    expect(after.map((key) => key.id).sort()).toEqual([created.id, "env"].sort());
    expect(after.find((key) => key.id === created.id)?.key).toEqual(encoder.encode(created.value));
    expect(after.find((key) => key.id === "env")?.key).toEqual(encoder.encode(testSecrets.surge));
  });

  test("new secret verifies signatures", async () => {
    const body = encoder.encode('{"type":"payment.confirmed"}');
    const created = await createSecret(ctx, { source: "basaltecho" });

    const keys = await ctx.secrets.keysFor("basaltecho");
    const result = verifyHexSignature(body, signHex(created.value, body), keys, "x-basaltecho-signature");

    expect(result).toEqual({ ok: true, keyId: created.id });
  });

  test("generated hex secret is 64 hex digits", async () => {
    const created = await createSecret(ctx, { source: "surge" });

    expect(created.value).toMatch(/^[0-9a-f]{64}$/);
    expect(created.id).toMatch(/^whs_[0-9a-f]{32}$/);
  });

  test("generated whsec secret decodes", async () => {
    const created = await createSecret(ctx, { source: "openai" });

    const keys = await ctx.secrets.keysFor("openai");

    expect(created.value.startsWith("whsec_")).toBe(true);
    expect(keys.find((key) => key.id === created.id)?.key).toEqual(
      Uint8Array.fromBase64(created.value.slice("whsec_".length)),
    );
  });

  test("provided whsec secret is kept", async () => {
    const value = `whsec_${Uint8Array.from({ length: 24 }, (_, index) => index + 100).toBase64()}`;

    const created = await createSecret(ctx, { source: "resend", value });
    const keys = await ctx.secrets.keysFor("resend");

    expect(created.value).toBe(value);
    expect(keys.find((key) => key.id === created.id)?.key).toEqual(Uint8Array.fromBase64(value.slice(6)));
  });

  const invalidValues: { name: string; source: "surge" | "resend"; value: string }[] = [
    { name: "short hex secret", source: "surge", value: "short-secret" },
    { name: "padded hex secret", source: "surge", value: " surge-secret-0123456789abcdef " },
    { name: "whsec without prefix", source: "resend", value: "c2VjcmV0LWtleS0xMjM0NTY3OA==" },
    { name: "short whsec key", source: "resend", value: "whsec_c2hvcnQta2V5" },
  ];

  for (const { name, source, value } of invalidValues) {
    test(`rejects ${name}`, async () => {
      let error: unknown;

      try {
        await createSecret(ctx, { source, value });
      } catch (caught) {
        error = caught;
      }

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error instanceof Error ? error.message : "").toContain(`The ${source} secret`);
      expect(error instanceof Error ? error.message : "").not.toContain(value.trim());
      expect(await countSecretRows()).toBe(0);
    });
  }

  test("without cipher raises ConfigurationError", async () => {
    const noCipher: SecretContext = {
      db: ctx.db,
      clock: ctx.clock,
      logger: ctx.logger,
      secrets: new SecretStore({
        db: ctx.db,
        cipher: null,
        clock: ctx.clock,
        logger: ctx.logger,
        environmentSecrets: testSecrets,
      }),
    };

    const created = createSecret(noCipher, { source: "surge" });

    await expect(created).rejects.toBeInstanceOf(ConfigurationError);
    await expect(created).rejects.toThrow("SECRETS_ENCRYPTION_KEY");
    expect(await countSecretRows()).toBe(0);
  });

  test("logs never contain the secret", async () => {
    const entries: LogEntry[] = [];
    const logged: SecretContext = { ...ctx, logger: recordingLogger(entries) };

    const created = await createSecret(logged, { source: "resend" });

    expect(entries).toHaveLength(1);
    expect(entries[0]?.fields.secret_id).toBe(created.id);
    expect(JSON.stringify(entries)).not.toContain(created.value);
    expect(JSON.stringify(entries)).not.toContain(created.value.slice(6, 30));
  });
});
