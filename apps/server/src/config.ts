import { decodeEncryptionKey, parseHexSecret, parseWhsecSecret } from "@basalt/core";
import { z } from "zod";

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const secret = (parse: (value: string) => { ok: true } | { ok: false; message: string }) =>
  z.string().superRefine((value, context) => {
    const parsed = parse(value);
    if (!parsed.ok) {
      // The message describes the problem and never repeats the secret.
      context.addIssue({ code: "custom", message: parsed.message, input: "(hidden)" });
    }
  });

const hexSecret = secret(parseHexSecret);
const whsecSecret = secret(parseWhsecSecret);

const environmentSchema = z.object({
  PORT: integer(0, 65_535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, { error: "must be a postgres:// or postgresql:// URL" })
    .optional(),
  DATA_DIR: z.string().min(1).default(".data"),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
  SURGE_WEBHOOK_SECRET: hexSecret.optional(),
  BASALTECHO_WEBHOOK_SECRET: hexSecret.optional(),
  RESEND_WEBHOOK_SECRET: whsecSecret.optional(),
  OPENAI_WEBHOOK_SECRET: whsecSecret.optional(),
  AZURE_OPENAI_WEBHOOK_SECRET: whsecSecret.optional(),
  SECRETS_ENCRYPTION_KEY: z
    .string()
    .superRefine((value, context) => {
      try {
        decodeEncryptionKey(value);
      } catch (error) {
        context.addIssue({ code: "custom", message: (error as Error).message, input: "(hidden)" });
      }
    })
    .optional(),
  INTERNAL_API_KEY: z.string().min(32, { error: "must be at least 32 characters (openssl rand -hex 32)" }).optional(),
  MAX_BODY_BYTES: integer(1_024, 64 * 1_048_576).default(1_048_576),
  SIGNATURE_TOLERANCE_SECONDS: integer(1, 86_400).default(300),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  DATABASE_POOL_SIZE: integer(1, 100).default(10),
  WORKER_CONCURRENCY: integer(1, 64).default(4),
  WORKER_POLL_INTERVAL_MS: integer(50, 60_000).default(1_000),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(15_000),
});

export type Environment = z.infer<typeof environmentSchema>;

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly publicUrl: string | undefined;
  readonly webhookSecrets: {
    readonly surge?: string;
    readonly basaltecho?: string;
    readonly resend?: string;
    readonly openai?: string;
  };
  readonly encryptionKey: string | undefined;
  readonly internalApiKey: string | undefined;
  readonly maxBodyBytes: number;
  readonly signatureToleranceSeconds: number;
  readonly logLevel: Environment["LOG_LEVEL"];
  readonly logFormat: "json" | "pretty";
  readonly databasePoolSize: number;
  readonly workerConcurrency: number;
  readonly workerPollIntervalMs: number;
  readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Validates the environment once; throws a ConfigError naming every invalid variable. */
export function loadConfig(
  environment: Record<string, string | undefined>,
  options: { stdoutIsTty?: boolean } = {},
): AppConfig {
  // An empty variable counts as unset, as `VAR=` in a .env file or docker-compose.yml means.
  const setVariables = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const parsed = environmentSchema.safeParse(setVariables);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  const webhookSecrets = Object.fromEntries(
    Object.entries({
      surge: env.SURGE_WEBHOOK_SECRET,
      basaltecho: env.BASALTECHO_WEBHOOK_SECRET,
      resend: env.RESEND_WEBHOOK_SECRET,
      openai: env.OPENAI_WEBHOOK_SECRET ?? env.AZURE_OPENAI_WEBHOOK_SECRET,
    }).filter(([, value]) => value !== undefined),
  );
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ""),
    webhookSecrets,
    encryptionKey: env.SECRETS_ENCRYPTION_KEY,
    internalApiKey: env.INTERNAL_API_KEY,
    maxBodyBytes: env.MAX_BODY_BYTES,
    signatureToleranceSeconds: env.SIGNATURE_TOLERANCE_SECONDS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT ?? (options.stdoutIsTty ? "pretty" : "json"),
    databasePoolSize: env.DATABASE_POOL_SIZE,
    workerConcurrency: env.WORKER_CONCURRENCY,
    workerPollIntervalMs: env.WORKER_POLL_INTERVAL_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

/** Reads the process environment; the one place in the server that touches `process.env`. */
export function loadConfigFromEnvironment(): AppConfig {
  return loadConfig(process.env, { stdoutIsTty: process.stdout.isTTY });
}
