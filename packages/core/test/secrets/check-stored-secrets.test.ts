import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { webhookSecrets } from "@basalt/db";
import { eq } from "drizzle-orm";
import {
  ConfigurationError,
  checkStoredSecrets,
  createSecret,
  revokeSecret,
  rotateSecret,
  SecretCipher,
} from "../../src";
import { createTestContext, type TestContext } from "../support";

let ctx: TestContext;
const start = new Date("2026-03-01T12:00:00Z");

function requireCipher(): SecretCipher {
  const cipher = ctx.secrets.cipher;
  if (cipher === null) {
    throw new Error("the test context must have a cipher");
  }
  return cipher;
}

async function checkError(cipher: SecretCipher | null): Promise<unknown> {
  try {
    await checkStoredSecrets(ctx.db, cipher);
  } catch (error) {
    return error;
  }
  return undefined;
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

describe("checkStoredSecrets", () => {
  test("counts secrets that decrypt", async () => {
    await createSecret(ctx, { source: "surge" });
    await createSecret(ctx, { source: "resend" });
    await rotateSecret(ctx, { source: "openai" });

    const checked = await checkStoredSecrets(ctx.db, requireCipher());

    expect(checked).toBe(3);
  });

  test("empty table passes without key", async () => {
    const checked = await checkStoredSecrets(ctx.db, null);

    expect(checked).toBe(0);
  });

  test("different key raises ConfigurationError", async () => {
    const created = await createSecret(ctx, { source: "surge" });
    const otherCipher = await SecretCipher.fromBase64(SecretCipher.generateKey());

    const error = await checkError(otherCipher);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error instanceof Error ? error.message : "").toContain("SECRETS_ENCRYPTION_KEY");
    expect(error instanceof Error ? error.message : "").toContain(created.id);
    expect(error instanceof Error ? error.message : "").not.toContain(created.value);
  });

  test("no key raises ConfigurationError", async () => {
    await createSecret(ctx, { source: "resend" });
    await createSecret(ctx, { source: "openai" });

    const error = await checkError(null);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error instanceof Error ? error.message : "").toContain("SECRETS_ENCRYPTION_KEY is not set");
    expect(error instanceof Error ? error.message : "").toContain("2 encrypted secrets");
  });

  test("moved ciphertext names its row", async () => {
    const original = await createSecret(ctx, { source: "resend" });
    const target = await createSecret(ctx, { source: "resend" });
    const [row] = await ctx.db.select().from(webhookSecrets).where(eq(webhookSecrets.id, original.id));
    await ctx.db
      .update(webhookSecrets)
      .set({ ciphertext: row?.ciphertext ?? new Uint8Array() })
      .where(eq(webhookSecrets.id, target.id));

    const error = await checkError(requireCipher());

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error instanceof Error ? error.message : "").toContain(target.id);
    expect(error instanceof Error ? error.message : "").not.toContain(original.id);
  });

  test("revoked secrets are not checked", async () => {
    const created = await createSecret(ctx, { source: "surge" });
    await revokeSecret(ctx, { id: created.id });
    const otherCipher = await SecretCipher.fromBase64(SecretCipher.generateKey());

    const withOtherKey = await checkStoredSecrets(ctx.db, otherCipher);
    const withoutKey = await checkStoredSecrets(ctx.db, null);

    expect(withOtherKey).toBe(0);
    expect(withoutKey).toBe(0);
  });
});
