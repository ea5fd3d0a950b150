import { decodeEncryptionKey, type IntegrationSettings, parseHexSecret, parseWhsecSecret } from "@basalt/core";
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

const flag = z
  .enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .transform((value) => value === "true" || value === "1");

const baseUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .transform((value) => value.replace(/\/+$/, ""));

const hexSecret = secret(parseHexSecret);
const whsecSecret = secret(parseWhsecSecret);

const environmentSchema = z.object({
  PORT: integer(0, 65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
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
  DELIVERY_CONCURRENCY: integer(1, 512).default(32),
  OUTBOUND_ALLOW_LOOPBACK: flag.default(false),
  OUTBOUND_EXTRA_CA_FILE: z.string().min(1).optional(),
  RESEND_API_URL: baseUrl.default("https://api.resend.com"),
  RESEND_API_KEY: z.string().min(1).optional(),
  EMAIL_FROM: z.string().min(3).optional(),
  MERCURY_API_URL: baseUrl.default("https://api.mercury.com/api/v1"),
  MERCURY_API_TOKEN: z.string().min(1).optional(),
  OPENAI_API_URL: baseUrl.default("https://api.openai.com/v1"),
  OPENAI_API_KEY: z.string().min(1).optional(),
  FORM_RATE_LIMIT_PER_MINUTE: integer(1, 10_000).default(10),
  TRUST_PROXY: flag.default(false),
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
  readonly deliveryConcurrency: number;
  readonly outboundAllowLoopback: boolean;
  readonly outboundExtraCaFile: string | undefined;
  readonly integrations: IntegrationSettings;
  readonly formRateLimitPerMinute: number;
  /** Whether the last X-Forwarded-For address is the client's, because a trusted proxy sets it. */
  readonly trustProxy: boolean;
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
    deliveryConcurrency: env.DELIVERY_CONCURRENCY,
    outboundAllowLoopback: env.OUTBOUND_ALLOW_LOOPBACK,
    outboundExtraCaFile: env.OUTBOUND_EXTRA_CA_FILE,
    integrations: {
      resend: { apiUrl: env.RESEND_API_URL, apiKey: env.RESEND_API_KEY, from: env.EMAIL_FROM },
      mercury: { apiUrl: env.MERCURY_API_URL, apiToken: env.MERCURY_API_TOKEN },
      openai: { apiUrl: env.OPENAI_API_URL, apiKey: env.OPENAI_API_KEY },
    },
    formRateLimitPerMinute: env.FORM_RATE_LIMIT_PER_MINUTE,
    trustProxy: env.TRUST_PROXY,
  };
}

/** Reads the process environment; the one place in the server that touches `process.env`. */
export function loadConfigFromEnvironment(): AppConfig {
  return loadConfig(process.env, { stdoutIsTty: process.stdout.isTTY });
}
