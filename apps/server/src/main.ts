import { parseArgs } from "node:util";
import {
  checkStoredSecrets,
  DeliveryWorker,
  defaultDeliverySettings,
  describeError,
  EventWorker,
  EventWriter,
  type OutboundContext,
  pruneRateLimits,
  type ReceiveContext,
  SecretCipher,
  SecretStore,
  systemClock,
} from "@basalt/core";
import {
  createEventInserter,
  createSuccessWriter,
  type DatabaseHandle,
  describeDatabaseError,
  migrateDatabase,
  openDatabase,
} from "@basalt/db";
import type { Logger } from "pino";
import { createApp } from "./app";
import { ClientAddresses } from "./client-addresses";
import { type AppConfig, ConfigError, loadConfigFromEnvironment } from "./config";
import { DataFolder, isProcessAlive } from "./data-folder";
import { embeddedEncryptionKey, embeddedInternalApiKey, generateMissingSecrets } from "./embedded-setup";
import { createLogger, flushLogsSync } from "./logger";
import { createMetrics, type Metrics } from "./metrics";
import { announce } from "./startup/announce";
import { installShutdown } from "./startup/shutdown";
import { createNotifier, listenForEvents } from "./wake-channel";

type Role = "all" | "http" | "worker";

/** Exit code for a configuration error, so supervisors can tell it from a crash. */
const configErrorExitCode = 78;
/** Exit code for anything else that stops startup, such as an unreachable database or a port in use. */
const startupErrorExitCode = 1;
/** Time allowed for one outbound attempt, from connecting to the end of the response. */
const outboundTimeoutMs = 15_000;

interface Startup {
  readonly role: Role;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly embedded: boolean;
  readonly folder: DataFolder;
}

/**
 * Starts the service: validates the configuration, opens and migrates the database, checks the stored
 * secrets, listens for HTTP and starts the workers (as the role selects), and installs the shutdown.
 */
async function main(): Promise<void> {
  const startup = prepare();
  const { role, config, logger, embedded, folder } = startup;
  const database = await openMigratedDatabase(startup);
  const cipher = await loadCipher(startup, database);
  const secrets = new SecretStore({
    db: database.db,
    cipher,
    clock: systemClock,
    logger,
    environmentSecrets: config.webhookSecrets,
  });
  const metrics = createMetrics(database.db);
  const events = new EventWriter(database.db, createEventInserter(database));

  let worker: EventWorker | null = null;
  let deliveryWorker: DeliveryWorker | null = null;
  const notifyOtherProcesses =
    role === "http" && database.postgresClient ? createNotifier(database.postgresClient, logger) : undefined;
  const core: ReceiveContext = {
    db: database.db,
    clock: systemClock,
    logger,
    secrets,
    events,
    signatureToleranceSeconds: config.signatureToleranceSeconds,
    onPendingEvent: () => {
      worker?.wake();
      notifyOtherProcesses?.();
    },
    onDeliveriesQueued: () => {
      deliveryWorker?.wake();
      notifyOtherProcesses?.();
    },
  };
  if (embedded) {
    const generated = await generateMissingSecrets(core, folder);
    if (generated.length > 0) {
      logger.info(
        { sources: generated, file: folder.generatedSecretsPath },
        "signing secrets generated on first start",
      );
    }
  }

  const server = role === "worker" ? null : await startHttp(startup, core, database, metrics);
  if (role !== "http") {
    const outbound: OutboundContext = {
      ...core,
      cipher,
      http: {
        allowLoopback: config.outboundAllowLoopback,
        extraCaPem: config.outboundExtraCaFile ? await readExtraCa(config.outboundExtraCaFile, logger) : undefined,
        timeoutMs: outboundTimeoutMs,
      },
      integrations: config.integrations,
      deliverySettings: { ...defaultDeliverySettings, concurrency: config.deliveryConcurrency },
      recordSuccesses: createSuccessWriter(database),
    };
    worker = new EventWorker(
      core,
      { concurrency: config.workerConcurrency, pollIntervalMs: config.workerPollIntervalMs },
      { onOutcome: (outcome) => metrics.eventsProcessed.inc({ outcome }), isReceivingBusy: () => events.busy },
    );
    deliveryWorker = new DeliveryWorker(outbound, {
      onOutcome: (outcome, target) => metrics.deliveriesAttempted.inc({ outcome, target }),
    });
    worker.start();
    deliveryWorker.start();
    await wakeOnNotifications(database, role, [worker, deliveryWorker]);
    warnAboutIntegrations(config, logger);
    pruneRateLimitsPeriodically(database, logger);
  }

  if (server) {
    const url = config.publicUrl ?? `http://localhost:${server.port}`;
    await announce({ config, logger, secrets, url, embedded, folder, role });
  } else {
    logger.info({ role }, "worker process started");
  }
  installShutdown({
    logger,
    server,
    worker,
    deliveryWorker,
    database,
    folder: embedded ? folder : null,
    timeoutMs: config.shutdownTimeoutMs,
  });
}

/** Reads the role and the configuration, creates the logger, and claims the embedded data folder. */
function prepare(): Startup {
  const role = parseRole();
  let config: AppConfig;
  try {
    config = loadConfigFromEnvironment();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(configErrorExitCode);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const embedded = config.databaseUrl === undefined;
  const folder = new DataFolder(config.dataDir);
  if (embedded && role !== "all") {
    fail(logger, `--role ${role} needs DATABASE_URL: the embedded database serves one process only.`);
  }
  if (embedded) {
    claimDataFolder(folder, logger);
  }
  return { role, config, logger, embedded, folder };
}

async function openMigratedDatabase({ config, logger, embedded, folder }: Startup): Promise<DatabaseHandle> {
  try {
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: embedded ? folder.databasePath : undefined,
      maxConnections: config.databasePoolSize,
    });
    await migrateDatabase(database, config.databaseUrl);
    logger.info({ database: embedded ? "embedded" : "postgres" }, "database migrations applied");
    return database;
  } catch (error) {
    const where = embedded
      ? `the embedded database in ${folder.databasePath}`
      : "DATABASE_URL; check that Postgres runs and the database exists";
    fail(logger, `Cannot open ${where} (${describeDatabaseError(error)}).`, startupErrorExitCode);
  }
}

/** Loads the key of stored secrets and checks that every stored secret decrypts with it. */
async function loadCipher({ config, logger, embedded, folder }: Startup, database: DatabaseHandle) {
  const encryptionKey = config.encryptionKey ?? (embedded ? embeddedEncryptionKey(folder) : undefined);
  const cipher = encryptionKey === undefined ? null : await SecretCipher.fromBase64(encryptionKey);
  try {
    await checkStoredSecrets(database.db, cipher);
  } catch (error) {
    fail(logger, describeError(error));
  }
  return cipher;
}

async function startHttp(
  { config, logger, embedded, folder }: Startup,
  core: ReceiveContext,
  database: DatabaseHandle,
  metrics: Metrics,
): Promise<ReturnType<typeof Bun.serve>> {
  const clientAddresses = new ClientAddresses(config.trustProxy);
  const app = createApp({
    core,
    database,
    logger,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    internalApiKey: config.internalApiKey ?? (embedded ? embeddedInternalApiKey(folder) : undefined),
    enableDemoSeed: embedded,
    formRateLimit: { limit: config.formRateLimitPerMinute, windowMs: 60_000 },
    clientAddress: (request) => clientAddresses.of(request),
  });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      // Bun rejects a larger body with a bare 413 before any route runs, declared or chunked. Below
      // this limit the routes' own checks reject it, with the JSON error envelope and the limit's name.
      maxRequestBodySize: config.maxBodyBytes * 2 + 65_536,
      fetch: (request, listener) => {
        clientAddresses.remember(request, listener.requestIP(request)?.address ?? null);
        return app.fetch(request);
      },
    });
  } catch (error) {
    fail(
      logger,
      `Cannot listen on ${config.host}:${config.port} (${describeError(error)}); stop the process using it or set PORT.`,
      startupErrorExitCode,
    );
  }
  if (embedded) {
    folder.writeServerFile({ pid: process.pid, url: `http://127.0.0.1:${server.port}` });
  }
  return server;
}

/** In a worker-only process, NOTIFY from HTTP processes wakes the workers at once. */
async function wakeOnNotifications(database: DatabaseHandle, role: Role, workers: { wake(): void }[]): Promise<void> {
  if (role === "worker" && database.postgresClient) {
    await listenForEvents(database.postgresClient, () => {
      for (const worker of workers) {
        worker.wake();
      }
    });
  }
}

function parseRole(): Role {
  const { values } = parseArgs({ options: { role: { type: "string", default: "all" } }, allowPositionals: false });
  if (values.role !== "all" && values.role !== "http" && values.role !== "worker") {
    console.error(`Invalid --role ${values.role}; use all, http or worker.`);
    process.exit(configErrorExitCode);
  }
  return values.role;
}

/** Refuses to start when another live process uses the same embedded database. */
function claimDataFolder(folder: DataFolder, logger: Logger): void {
  folder.ensure();
  const running = folder.readServerFile();
  if (running && running.pid !== process.pid && isProcessAlive(running.pid)) {
    fail(
      logger,
      `Another Basalt Webhooks process (pid ${running.pid}, ${running.url}) is using ${folder.path}; the embedded database serves one process. Stop it, or set DATA_DIR to another folder.`,
    );
  }
}

async function readExtraCa(path: string, logger: Logger): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (error) {
    fail(
      logger,
      `OUTBOUND_EXTRA_CA_FILE ${path} cannot be read (${describeError(error)}); give the path of a PEM file.`,
    );
  }
}

/** Says once, at startup, which integrations are skipped for lack of credentials. */
function warnAboutIntegrations(config: AppConfig, logger: Logger): void {
  const missing = [
    config.integrations.resend.apiKey ? null : "RESEND_API_KEY (emails of forms are skipped)",
    config.integrations.resend.from ? null : "EMAIL_FROM (emails of forms are skipped)",
    config.integrations.mercury.apiToken ? null : "MERCURY_API_TOKEN (Mercury receivables are not cancelled)",
    config.integrations.openai.apiKey ? null : "OPENAI_API_KEY (incoming calls are not answered)",
  ].filter((entry) => entry !== null);
  if (missing.length > 0) {
    logger.warn({ missing }, "integrations without credentials are skipped");
  }
}

/** Deletes old rate limit counters every ten minutes; the timer does not keep the process alive. */
function pruneRateLimitsPeriodically(database: DatabaseHandle, logger: Logger): void {
  const timer = setInterval(() => {
    pruneRateLimits(database.db, new Date()).catch((error: unknown) => {
      logger.warn({ error: describeError(error) }, "pruning rate limit counters failed");
    });
  }, 600_000);
  timer.unref();
}

function fail(logger: Logger, message: string, exitCode = configErrorExitCode): never {
  logger.fatal({}, message);
  flushLogsSync(logger);
  process.exit(exitCode);
}

process.on("unhandledRejection", (reason) => {
  console.error("unhandled rejection:", describeError(reason));
});

try {
  await main();
} catch (error) {
  console.error(`Startup failed: ${describeError(error)}`);
  process.exit(startupErrorExitCode);
}
