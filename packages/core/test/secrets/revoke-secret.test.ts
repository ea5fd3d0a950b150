import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { webhookSecrets } from "@basalt/db";
import { eq } from "drizzle-orm";
import {
  createSecret,
  NotFoundError,
  revokeSecret,
  rotateSecret,
  type SigningKey,
  signHex,
  verifyHexSignature,
} from "../../src";
import { createTestContext, type TestContext } from "../support";

let ctx: TestContext;
const start = new Date("2026-03-01T12:00:00Z");
const body = new TextEncoder().encode('{"type":"payment.confirmed","data":{"id":"pay_1"}}');

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

describe("revokeSecret", () => {
  test("takes effect at once", async () => {
    const created = await createSecret(ctx, { source: "surge" });
    const before = await ctx.secrets.keysFor("surge");

    await revokeSecret(ctx, { id: created.id });
    const after = await ctx.secrets.keysFor("surge");

    expect(keyIds(before)).toEqual([created.id, "env"].sort());
    expect(keyIds(after)).toEqual(["env"]);
  });

  test("revoked secret verifies nothing", async () => {
    const created = await createSecret(ctx, { source: "surge" });
    const header = signHex(created.value, body);
    const before = verifyHexSignature(body, header, await ctx.secrets.keysFor("surge"), "X-Surge-Signature");

    await revokeSecret(ctx, { id: created.id });
    const after = verifyHexSignature(body, header, await ctx.secrets.keysFor("surge"), "X-Surge-Signature");

    expect(before).toEqual({ ok: true, keyId: created.id });
    expect(after.ok).toBe(false);
    expect(after.ok ? null : after.reason).toBe("invalid_signature");
  });

  test("records the revocation time", async () => {
    const created = await createSecret(ctx, { source: "resend" });
    ctx.clock.advance(90_000);

    await revokeSecret(ctx, { id: created.id });
    const [row] = await ctx.db.select().from(webhookSecrets).where(eq(webhookSecrets.id, created.id));

    expect(row?.revokedAt).toEqual(new Date(start.getTime() + 90_000));
  });

  test("second revoke raises NotFoundError", async () => {
    const created = await createSecret(ctx, { source: "surge" });
    await revokeSecret(ctx, { id: created.id });

    const second = revokeSecret(ctx, { id: created.id });

    await expect(second).rejects.toBeInstanceOf(NotFoundError);
    await expect(second).rejects.toThrow(created.id);
  });

  test("unknown id raises NotFoundError", async () => {
    const revoked = revokeSecret(ctx, { id: "whs_missing" });

    await expect(revoked).rejects.toBeInstanceOf(NotFoundError);
    await expect(revoked).rejects.toThrow("whs_missing");
  });

  test("ends a grace period early", async () => {
    const old = await createSecret(ctx, { source: "openai" });
    const rotated = await rotateSecret(ctx, { source: "openai" });

    await revokeSecret(ctx, { id: old.id });
    const keys = await ctx.secrets.keysFor("openai");

    expect(keyIds(keys)).toEqual([rotated.id, "env"].sort());
  });

  test("leaves other secrets active", async () => {
    const revoked = await createSecret(ctx, { source: "basaltecho" });
    const remaining = await createSecret(ctx, { source: "basaltecho" });
    const otherSource = await createSecret(ctx, { source: "surge" });

    await revokeSecret(ctx, { id: revoked.id });

    expect(keyIds(await ctx.secrets.keysFor("basaltecho"))).toEqual([remaining.id, "env"].sort());
    expect(keyIds(await ctx.secrets.keysFor("surge"))).toEqual([otherSource.id, "env"].sort());
  });
});
