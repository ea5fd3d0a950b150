import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../src/config";

const whsec = `whsec_${new Uint8Array(24).fill(1).toBase64()}`;

function configError(environment: Record<string, string>): string {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.message;
    }
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("empty environment gives defaults", () => {
    const config = loadConfig({});

    expect(config.port).toBe(3000);
    expect(config.host).toBe("127.0.0.1");
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe(".data");
    expect(config.maxBodyBytes).toBe(1_048_576);
    expect(config.signatureToleranceSeconds).toBe(300);
    expect(config.logFormat).toBe("json");
    expect(config.webhookSecrets).toEqual({});
  });

  test("empty strings count as unset", () => {
    const config = loadConfig({ DATABASE_URL: "", SURGE_WEBHOOK_SECRET: " ", PORT: "" });

    expect(config.databaseUrl).toBeUndefined();
    expect(config.webhookSecrets.surge).toBeUndefined();
    expect(config.port).toBe(3000);
  });

  test("Azure secret serves OpenAI when OpenAI's is unset", () => {
    expect(loadConfig({ AZURE_OPENAI_WEBHOOK_SECRET: whsec }).webhookSecrets.openai).toBe(whsec);
  });

  test("OpenAI secret wins over Azure's", () => {
    const other = `whsec_${new Uint8Array(24).fill(2).toBase64()}`;

    expect(loadConfig({ OPENAI_WEBHOOK_SECRET: other, AZURE_OPENAI_WEBHOOK_SECRET: whsec }).webhookSecrets.openai).toBe(
      other,
    );
  });

  test.each([
    [{ PORT: "70000" }, "PORT"],
    [{ PORT: "abc" }, "PORT"],
    [{ DATABASE_URL: "mysql://localhost/db" }, "DATABASE_URL"],
    [{ MAX_BODY_BYTES: "10" }, "MAX_BODY_BYTES"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ SECRETS_ENCRYPTION_KEY: "c2hvcnQ=" }, "SECRETS_ENCRYPTION_KEY"],
    [{ INTERNAL_API_KEY: "short" }, "INTERNAL_API_KEY"],
    [{ PUBLIC_URL: "ftp://example.com" }, "PUBLIC_URL"],
  ])("invalid %p names %s", (environment, variable) => {
    expect(configError(environment)).toContain(`${variable}:`);
  });

  test.each([
    ["SURGE_WEBHOOK_SECRET", "weak-secret"],
    ["BASALTECHO_WEBHOOK_SECRET", " padded-secret-0123456789 "],
    ["RESEND_WEBHOOK_SECRET", "whsec_not*base64"],
    ["OPENAI_WEBHOOK_SECRET", `whsec_${new Uint8Array(8).fill(1).toBase64()}`],
    ["AZURE_OPENAI_WEBHOOK_SECRET", "no-prefix-0123456789abcdef"],
  ])("weak %s is refused without echoing it", (variable, value) => {
    const message = configError({ [variable]: value });

    expect(message).toContain(`${variable}:`);
    expect(message).not.toContain(value.trim());
  });

  test("every invalid variable is listed", () => {
    const message = configError({ PORT: "-1", LOG_LEVEL: "x", WORKER_CONCURRENCY: "0" });

    expect(message).toContain("PORT:");
    expect(message).toContain("LOG_LEVEL:");
    expect(message).toContain("WORKER_CONCURRENCY:");
  });
});
