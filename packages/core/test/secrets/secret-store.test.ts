import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type EventSource, webhookSecrets } from "@basalt/db";
import { eq } from "drizzle-orm";
import {
  createSecret,
  type Logger,
  newId,
  SecretCipher,
  type SecretContext,
  SecretStore,
  type SigningKey,
  silentLogger,
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

function requireCipher(): SecretCipher {
  const cipher = ctx.secrets.cipher;
  if (cipher === null) {
    throw new Error("the test context must have a cipher");
  }
  return cipher;
}

function storeWith(
  cipher: SecretCipher | null,
  options: { logger?: Logger; environmentSecrets?: Partial<Record<EventSource, string>> } = {},
): SecretStore {
  return new SecretStore({
    db: ctx.db,
    cipher,
    clock: ctx.clock,
    logger: options.logger ?? silentLogger,
    environmentSecrets: options.environmentSecrets ?? testSecrets,
  });
}

function keyIds(keys: SigningKey[]): string[] {
  return keys.map((key) => key.id).sort();
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

describe("SecretStore without cipher", () => {
  test("ignores stored secrets, keeps env", async () => {
    await createSecret(ctx, { source: "surge" });
    const entries: LogEntry[] = [];
    const store = storeWith(null, { logger: recordingLogger(entries) });

    const keys = await store.keysFor("surge");

    expect(keyIds(keys)).toEqual(["env"]);
    expect(keys[0]?.key).toEqual(encoder.encode(testSecrets.surge));
    expect(store.canStoreSecrets).toBe(false);
    expect(entries.filter((entry) => entry.level === "error")).toHaveLength(1);
    expect(entries[0]?.message).toContain("SECRETS_ENCRYPTION_KEY");
    expect(entries[0]?.fields.stored_secrets).toBe(1);
  });

  test("source without env has no keys", async () => {
    await createSecret(ctx, { source: "resend" });
    const store = storeWith(null, { environmentSecrets: {} });

    const keys = await store.keysFor("resend");

    expect(keys).toEqual([]);
  });
});

describe("SecretStore with another key", () => {
  test("skips undecryptable secrets, keeps env", async () => {
    const created = await createSecret(ctx, { source: "openai" });
    const entries: LogEntry[] = [];
    const otherCipher = await SecretCipher.fromBase64(SecretCipher.generateKey());
    const store = storeWith(otherCipher, { logger: recordingLogger(entries) });

    const keys = await store.keysFor("openai");

    expect(keyIds(keys)).toEqual(["env"]);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.level).toBe("error");
    expect(entries[0]?.fields.secret_id).toBe(created.id);
    expect(entries[0]?.message).toContain("does not decrypt");
    expect(JSON.stringify(entries)).not.toContain(created.value);
  });
});

describe("SecretStore hasUnusableSecrets", () => {
  test("true when stored secrets do not decrypt", async () => {
    await createSecret(ctx, { source: "basaltecho" });
    const store = storeWith(await SecretCipher.fromBase64(SecretCipher.generateKey()), { environmentSecrets: {} });

    expect(await store.keysFor("basaltecho")).toEqual([]);
    expect(await store.hasUnusableSecrets("basaltecho")).toBe(true);
  });

  test("true without a cipher", async () => {
    await createSecret(ctx, { source: "basaltecho" });
    const store = storeWith(null, { environmentSecrets: {} });

    expect(await store.hasUnusableSecrets("basaltecho")).toBe(true);
  });

  test("false when every secret is usable", async () => {
    await createSecret(ctx, { source: "basaltecho" });

    expect(await ctx.secrets.hasUnusableSecrets("basaltecho")).toBe(false);
  });

  test("false with no stored secret", async () => {
    expect(await ctx.secrets.hasUnusableSecrets("basaltecho")).toBe(false);
  });
});

describe("SecretStore associated data", () => {
  test("ciphertext moved to another row fails", async () => {
    const original = await createSecret(ctx, { source: "resend" });
    const target = await createSecret(ctx, { source: "resend" });
    const [row] = await ctx.db.select().from(webhookSecrets).where(eq(webhookSecrets.id, original.id));
    await ctx.db
      .update(webhookSecrets)
      .set({ ciphertext: row?.ciphertext ?? new Uint8Array() })
      .where(eq(webhookSecrets.id, target.id));
    const entries: LogEntry[] = [];
    const store = storeWith(requireCipher(), { logger: recordingLogger(entries) });

    const keys = await store.keysFor("resend");

    expect(keyIds(keys)).toEqual([original.id, "env"].sort());
    expect(entries.map((entry) => entry.fields.secret_id)).toEqual([target.id]);
  });

  test("row moved to another source fails", async () => {
    const created = await createSecret(ctx, { source: "resend" });
    await ctx.db.update(webhookSecrets).set({ source: "openai" }).where(eq(webhookSecrets.id, created.id));
    const entries: LogEntry[] = [];
    const store = storeWith(requireCipher(), { logger: recordingLogger(entries) });

    const keys = await store.keysFor("openai");

    expect(keyIds(keys)).toEqual(["env"]);
    expect(entries.map((entry) => entry.fields.secret_id)).toEqual([created.id]);
  });

  test("invalid stored plaintext is skipped", async () => {
    const cipher = requireCipher();
    const id = newId("whs");
    const ciphertext = await cipher.encrypt("too-short", `webhook_secrets:${id}:surge`);
    await ctx.db.insert(webhookSecrets).values({ id, source: "surge", ciphertext, fingerprint: "000000000000" });
    const entries: LogEntry[] = [];
    const store = storeWith(cipher, { logger: recordingLogger(entries) });

    const keys = await store.keysFor("surge");

    expect(keyIds(keys)).toEqual(["env"]);
    expect(entries.map((entry) => entry.fields.secret_id)).toEqual([id]);
    expect(entries[0]?.message).toContain("not a valid");
    expect(entries[0]?.message).not.toContain("does not decrypt");
    expect(entries[0]?.fields.problem).toContain("is 9 characters long");
    expect(JSON.stringify(entries)).not.toContain("too-short");
  });
});

describe("SecretStore keysFor", () => {
  test("keys stay per source", async () => {
    const surge = await createSecret(ctx, { source: "surge" });
    const resend = await createSecret(ctx, { source: "resend" });

    const surgeKeys = await ctx.secrets.keysFor("surge");
    const resendKeys = await ctx.secrets.keysFor("resend");

    expect(keyIds(surgeKeys)).toEqual([surge.id, "env"].sort());
    expect(keyIds(resendKeys)).toEqual([resend.id, "env"].sort());
  });

  test("expired secret is excluded", async () => {
    const created = await createSecret(ctx, { source: "surge" });
    await ctx.db
      .update(webhookSecrets)
      .set({ expiresAt: new Date(start.getTime() + 60_000) })
      .where(eq(webhookSecrets.id, created.id));
    ctx.secrets.invalidate("surge");

    const before = await ctx.secrets.keysFor("surge");
    ctx.clock.advance(60_000);
    const atExpiry = await ctx.secrets.keysFor("surge");

    expect(keyIds(before)).toEqual([created.id, "env"].sort());
    expect(keyIds(atExpiry)).toEqual(["env"]);
  });

  test("other process changes show after TTL", async () => {
    const first = await ctx.secrets.keysFor("basaltecho");
    const otherProcess: SecretContext = { ...ctx, secrets: storeWith(requireCipher()) };
    const created = await createSecret(otherProcess, { source: "basaltecho" });

    ctx.clock.advance(4_999);
    const withinTtl = await ctx.secrets.keysFor("basaltecho");
    ctx.clock.advance(1);
    const afterTtl = await ctx.secrets.keysFor("basaltecho");

    expect(keyIds(first)).toEqual(["env"]);
    expect(keyIds(withinTtl)).toEqual(["env"]);
    expect(keyIds(afterTtl)).toEqual([created.id, "env"].sort());
  });

  test("unset environment entry is skipped", () => {
    const environmentSecrets: Partial<Record<EventSource, string>> = { surge: undefined, resend: testSecrets.resend };

    const build = () => storeWith(requireCipher(), { environmentSecrets });

    expect(build).not.toThrow();
    expect(build().hasEnvironmentSecret("surge")).toBe(false);
    expect(build().hasEnvironmentSecret("resend")).toBe(true);
  });

  test("hasEnvironmentSecret follows the options", () => {
    const store = storeWith(requireCipher(), { environmentSecrets: { openai: testSecrets.openai } });

    expect(store.hasEnvironmentSecret("openai")).toBe(true);
    expect(store.hasEnvironmentSecret("surge")).toBe(false);
    expect(store.canStoreSecrets).toBe(true);
  });
});
