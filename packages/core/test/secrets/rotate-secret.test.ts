import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type EventSource, webhookSecrets } from "@basalt/db";
import { and, eq, isNotNull, isNull } from "drizzle-orm";
import {
  ConfigurationError,
  createSecret,
  defaultRotationGraceHours,
  InvalidInputError,
  maxExpiringSecretsPerSource,
  rotateSecret,
  type SecretContext,
  SecretStore,
  type SigningKey,
  silentLogger,
} from "../../src";
import { createTestContext, type TestContext, testSecrets } from "../support";

let ctx: TestContext;
const start = new Date("2026-03-01T12:00:00Z");
const hourMs = 3_600_000;

function keyIds(keys: SigningKey[]): string[] {
  return keys.map((key) => key.id).sort();
}

async function readSecretRow(id: string) {
  const [row] = await ctx.db.select().from(webhookSecrets).where(eq(webhookSecrets.id, id));
  return row;
}

async function unrevokedExpiringIds(source: EventSource): Promise<string[]> {
  const rows = await ctx.db
    .select({ id: webhookSecrets.id })
    .from(webhookSecrets)
    .where(
      and(eq(webhookSecrets.source, source), isNull(webhookSecrets.revokedAt), isNotNull(webhookSecrets.expiresAt)),
    );
  return rows.map((row) => row.id).sort();
}

async function revokedIds(source: EventSource): Promise<string[]> {
  const rows = await ctx.db
    .select({ id: webhookSecrets.id })
    .from(webhookSecrets)
    .where(and(eq(webhookSecrets.source, source), isNotNull(webhookSecrets.revokedAt)));
  return rows.map((row) => row.id).sort();
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

describe("rotateSecret grace period", () => {
  test("old secret verifies until grace ends", async () => {
    const old = await createSecret(ctx, { source: "surge" });
    const rotated = await rotateSecret(ctx, { source: "surge" });

    const rightAfter = await ctx.secrets.keysFor("surge");
    ctx.clock.advance(defaultRotationGraceHours * hourMs - 1_000);
    const justBefore = await ctx.secrets.keysFor("surge");
    ctx.clock.advance(1_001);
    const justAfter = await ctx.secrets.keysFor("surge");

    expect(defaultRotationGraceHours).toBe(24);
    expect(keyIds(rightAfter)).toEqual([old.id, rotated.id, "env"].sort());
    expect(keyIds(justBefore)).toEqual([old.id, rotated.id, "env"].sort());
    expect(keyIds(justAfter)).toEqual([rotated.id, "env"].sort());
  });

  test("old row expires after grace", async () => {
    const old = await createSecret(ctx, { source: "resend" });

    const rotated = await rotateSecret(ctx, { source: "resend" });

    expect((await readSecretRow(old.id))?.expiresAt).toEqual(new Date(start.getTime() + 24 * hourMs));
    expect((await readSecretRow(old.id))?.revokedAt).toBeNull();
    expect((await readSecretRow(rotated.id))?.expiresAt).toBeNull();
  });

  test("custom grace hours apply", async () => {
    const old = await createSecret(ctx, { source: "openai" });
    const rotated = await rotateSecret(ctx, { source: "openai", graceHours: 1 });

    ctx.clock.advance(hourMs - 1);
    const justBefore = await ctx.secrets.keysFor("openai");
    ctx.clock.advance(1);
    const atExpiry = await ctx.secrets.keysFor("openai");

    expect(keyIds(justBefore)).toEqual([old.id, rotated.id, "env"].sort());
    expect(keyIds(atExpiry)).toEqual([rotated.id, "env"].sort());
  });

  test("zero grace drops old at once", async () => {
    const old = await createSecret(ctx, { source: "surge" });

    const rotated = await rotateSecret(ctx, { source: "surge", graceHours: 0 });
    const keys = await ctx.secrets.keysFor("surge");

    expect(keyIds(keys)).toEqual([rotated.id, "env"].sort());
    expect(keyIds(keys)).not.toContain(old.id);
  });

  test("earlier expiry is not extended", async () => {
    const first = await createSecret(ctx, { source: "basaltecho" });
    const second = await rotateSecret(ctx, { source: "basaltecho" });
    ctx.clock.advance(hourMs);

    const third = await rotateSecret(ctx, { source: "basaltecho" });
    ctx.clock.set(new Date(start.getTime() + 24 * hourMs));
    const afterFirstExpiry = await ctx.secrets.keysFor("basaltecho");

    expect((await readSecretRow(first.id))?.expiresAt).toEqual(new Date(start.getTime() + 24 * hourMs));
    expect((await readSecretRow(second.id))?.expiresAt).toEqual(new Date(start.getTime() + 25 * hourMs));
    expect(keyIds(afterFirstExpiry)).toEqual([second.id, third.id, "env"].sort());
  });

  test("environment secret survives rotation", async () => {
    await createSecret(ctx, { source: "surge" });
    const rotated = await rotateSecret(ctx, { source: "surge" });

    ctx.clock.advance(30 * 24 * hourMs);
    const keys = await ctx.secrets.keysFor("surge");

    expect(keyIds(keys)).toEqual([rotated.id, "env"].sort());
  });

  test("provided value becomes the key", async () => {
    const value = "surge-rotated-secret-0123456789abcdef";

    const rotated = await rotateSecret(ctx, { source: "surge", value });
    const keys = await ctx.secrets.keysFor("surge");

    expect(rotated.value).toBe(value);
    expect(keys.find((key) => key.id === rotated.id)?.key).toEqual(new TextEncoder().encode(value));
  });
});

describe("rotateSecret concurrency", () => {
  test("simultaneous rotations leave one active secret", async () => {
    await createSecret(ctx, { source: "surge" });

    const rotated = await Promise.all(Array.from({ length: 4 }, () => rotateSecret(ctx, { source: "surge" })));

    const nonExpiring = await ctx.db
      .select({ id: webhookSecrets.id })
      .from(webhookSecrets)
      .where(
        and(eq(webhookSecrets.source, "surge"), isNull(webhookSecrets.revokedAt), isNull(webhookSecrets.expiresAt)),
      );
    expect(nonExpiring).toHaveLength(1);
    expect(rotated.map((secret) => secret.id)).toContain(nonExpiring[0]?.id ?? "");
  });
});

describe("rotateSecret limit", () => {
  test("keeps ten rotated-out secrets", async () => {
    const created: string[] = [];

    for (let rotation = 0; rotation < 12; rotation++) {
      created.push((await rotateSecret(ctx, { source: "resend" })).id);
      ctx.clock.advance(60_000);
    }
    const expiring = await unrevokedExpiringIds("resend");
    const revoked = await revokedIds("resend");
    const keys = await ctx.secrets.keysFor("resend");

    expect(maxExpiringSecretsPerSource).toBe(10);
    expect(expiring).toHaveLength(10);
    expect(expiring).toEqual(created.slice(1, 11).sort());
    expect(revoked).toEqual([created[0] ?? ""]);
    expect(keyIds(keys)).toEqual([...created.slice(1), "env"].sort());
  });

  test("revokes the oldest first", async () => {
    const initial = await createSecret(ctx, { source: "openai" });
    const created: string[] = [];

    for (let rotation = 0; rotation < 12; rotation++) {
      created.push((await rotateSecret(ctx, { source: "openai" })).id);
    }
    const expiring = await unrevokedExpiringIds("openai");
    const revoked = await revokedIds("openai");

    expect(expiring).toEqual(created.slice(1, 11).sort());
    expect(revoked).toEqual([initial.id, created[0] ?? ""].sort());
    expect((await readSecretRow(initial.id))?.revokedAt).toEqual(start);
  });

  test("limit counts each source apart", async () => {
    const surge = await createSecret(ctx, { source: "surge" });

    for (let rotation = 0; rotation < 12; rotation++) {
      await rotateSecret(ctx, { source: "basaltecho" });
    }
    const surgeKeys = await ctx.secrets.keysFor("surge");

    expect(await revokedIds("surge")).toEqual([]);
    expect(keyIds(surgeKeys)).toEqual([surge.id, "env"].sort());
    expect(await unrevokedExpiringIds("basaltecho")).toHaveLength(10);
  });
});

describe("rotateSecret invalid input", () => {
  const graceHours = [-1, Number.NaN, Number.POSITIVE_INFINITY, 721];

  for (const hours of graceHours) {
    test(`rejects ${hours} grace hours`, async () => {
      const old = await createSecret(ctx, { source: "surge" });

      const rotated = rotateSecret(ctx, { source: "surge", graceHours: hours });

      await expect(rotated).rejects.toBeInstanceOf(InvalidInputError);
      expect((await readSecretRow(old.id))?.expiresAt).toBeNull();
      expect(keyIds(await ctx.secrets.keysFor("surge"))).toEqual([old.id, "env"].sort());
    });
  }

  test("accepts 720 grace hours", async () => {
    const old = await createSecret(ctx, { source: "surge" });

    await rotateSecret(ctx, { source: "surge", graceHours: 720 });

    expect((await readSecretRow(old.id))?.expiresAt).toEqual(new Date(start.getTime() + 720 * hourMs));
  });

  test("invalid value rolls everything back", async () => {
    const old = await createSecret(ctx, { source: "resend" });

    const rotated = rotateSecret(ctx, { source: "resend", value: "whsec_dG9vLXNob3J0" });

    await expect(rotated).rejects.toBeInstanceOf(InvalidInputError);
    expect((await readSecretRow(old.id))?.expiresAt).toBeNull();
    expect(await unrevokedExpiringIds("resend")).toEqual([]);
    expect(keyIds(await ctx.secrets.keysFor("resend"))).toEqual([old.id, "env"].sort());
  });

  test("without cipher raises ConfigurationError", async () => {
    const old = await createSecret(ctx, { source: "surge" });
    const noCipher: SecretContext = {
      ...ctx,
      secrets: new SecretStore({
        db: ctx.db,
        cipher: null,
        clock: ctx.clock,
        logger: silentLogger,
        environmentSecrets: testSecrets,
      }),
    };

    const rotated = rotateSecret(noCipher, { source: "surge" });

    await expect(rotated).rejects.toBeInstanceOf(ConfigurationError);
    await expect(rotated).rejects.toThrow("SECRETS_ENCRYPTION_KEY");
    expect((await readSecretRow(old.id))?.expiresAt).toBeNull();
  });
});
