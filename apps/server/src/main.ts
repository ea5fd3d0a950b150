import { parseArgs } from "node:util";
import {
  checkStoredSecrets,
  describeError,
  type EventSource,
  EventWorker,
  EventWriter,
  eventSources,
  type ReceiveContext,
  SecretCipher,
  SecretStore,
  sourceDefinitions,
  systemClock,
} from "@basalt/core";
import { createEventInserter, type DatabaseHandle, migrateDatabase, openDatabase } from "@basalt/db";
import type { Logger } from "pino";
import { createApp } from "./app";
import { type AppConfig, ConfigError, loadConfigFromEnvironment } from "./config";
import { DataFolder, isProcessAlive } from "./data-folder";
import {
  embeddedEncryptionKey,
  embeddedInternalApiKey,
  generateMissingSecrets,
  secretEnvNames,
} from "./embedded-setup";
import { createLogger } from "./logger";
import { createMetrics } from "./metrics";
import { createNotifier, listenForEvents } from "./wake-channel";

type Role = "all" | "http" | "worker";

/** Exit code for a configuration error, so supervisors can tell it from a crash. */
const configErrorExitCode = 78;

async function main(): Promise<void> {
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

  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: embedded ? folder.databasePath : undefined,
    maxConnections: config.databasePoolSize,
  });
  await migrateDatabase(database, config.databaseUrl);

  const encryptionKey = config.encryptionKey ?? (embedded ? embeddedEncryptionKey(folder) : undefined);
  const cipher = encryptionKey === undefined ? null : await SecretCipher.fromBase64(encryptionKey);
  try {
    await checkStoredSecrets(database.db, cipher);
  } catch (error) {
    fail(logger, describeError(error));
  }
  const secrets = new SecretStore({
    db: database.db,
    cipher,
    clock: systemClock,
    logger,
    environmentSecrets: config.webhookSecrets,
  });

  let worker: EventWorker | null = null;
  const metrics = createMetrics(database.db);
  const notifyOtherProcesses =
    role === "http" && database.postgresClient ? createNotifier(database.postgresClient, logger) : undefined;
  const events = new EventWriter(database.db, createEventInserter(database));
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

  if (role !== "http") {
    worker = new EventWorker(
      core,
      { concurrency: config.workerConcurrency, pollIntervalMs: config.workerPollIntervalMs },
      {
        onOutcome: (outcome) => metrics.eventsProcessed.inc({ outcome }),
        isReceivingBusy: () => events.busy,
      },
    );
    worker.start();
    if (role === "worker" && database.postgresClient) {
      const running = worker;
      await listenForEvents(database.postgresClient, () => running.wake());
    }
  }

  let server: ReturnType<typeof Bun.serve> | null = null;
  if (role !== "worker") {
    const app = createApp({
      core,
      database,
      logger,
      metrics,
      maxBodyBytes: config.maxBodyBytes,
      internalApiKey: config.internalApiKey ?? (embedded ? embeddedInternalApiKey(folder) : undefined),
      enableDemoSeed: embedded,
    });
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      // Bun's own limit is a backstop: the route's check responds first, with the JSON error envelope.
      maxRequestBodySize: config.maxBodyBytes * 2 + 65_536,
      fetch: app.fetch,
    });
    const url = config.publicUrl ?? `http://localhost:${server.port}`;
    if (embedded) {
      folder.writeServerFile({ pid: process.pid, url: `http://127.0.0.1:${server.port}` });
    }
    await announce({ config, logger, secrets, url, embedded, folder, role });
  } else {
    logger.info({ role }, "worker process started");
  }

  installShutdown({
    logger,
    server,
    worker,
    database,
    folder: embedded ? folder : null,
    timeoutMs: config.shutdownTimeoutMs,
  });
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

async function announce(input: {
  config: AppConfig;
  logger: Logger;
  secrets: SecretStore;
  url: string;
  embedded: boolean;
  folder: DataFolder;
  role: Role;
}): Promise<void> {
  const { logger, secrets, url, embedded, folder } = input;
  const endpoints: { source: EventSource; url: string; secrets: number; environment: boolean }[] = [];
  for (const source of eventSources) {
    const keys = await secrets.keysFor(source);
    endpoints.push({
      source,
      url: `${url}${sourceDefinitions[source].route}`,
      secrets: keys.length,
      environment: secrets.hasEnvironmentSecret(source),
    });
  }
  logger.info(
    {
      url,
      role: input.role,
      database: embedded ? `embedded (${folder.databasePath})` : "postgres",
      endpoints: Object.fromEntries(endpoints.map((endpoint) => [endpoint.source, endpoint.url])),
    },
    "Basalt Webhooks is listening",
  );
  for (const endpoint of endpoints) {
    if (endpoint.secrets > 0) {
      continue;
    }
    if (sourceDefinitions[endpoint.source].allowsUnsigned) {
      logger.warn(
        { source: endpoint.source },
        `${endpoint.source} has no signing secret, so it accepts unsigned events; set ${secretEnvNames(endpoint.source)} to require signatures`,
      );
    } else {
      logger.warn(
        { source: endpoint.source },
        `${endpoint.source} has no signing secret and answers 503 until ${secretEnvNames(endpoint.source)} is set or a secret is added`,
      );
    }
  }
  if (input.config.logFormat === "pretty") {
    const width = Math.max(...endpoints.map((endpoint) => endpoint.source.length));
    const lines = endpoints.map((endpoint) => {
      const secret = endpoint.environment
        ? `secret from ${secretEnvNames(endpoint.source)}`
        : endpoint.secrets > 0
          ? "stored secret"
          : "no secret";
      return `  ${endpoint.source.padEnd(width)}  POST ${endpoint.url}  (${secret})`;
    });
    console.log(`\nWebhook endpoints:\n${lines.join("\n")}\n`);
    if (embedded) {
      console.log(`Generated secrets for \`bun run trigger\` are in ${folder.generatedSecretsPath}\n`);
    }
  }
}

function installShutdown(input: {
  logger: Logger;
  server: ReturnType<typeof Bun.serve> | null;
  worker: EventWorker | null;
  database: DatabaseHandle;
  folder: DataFolder | null;
  timeoutMs: number;
}): void {
  const { logger } = input;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests and events");
    const deadline = setTimeout(() => {
      logger.error({ timeout_ms: input.timeoutMs }, "shutdown timed out; exiting");
      process.exit(1);
    }, input.timeoutMs);
    try {
      await input.server?.stop();
      await input.worker?.stop();
      await input.database.close();
      input.folder?.removeServerFile();
      logger.info({}, "stopped");
      logger.flush();
      clearTimeout(deadline);
      process.exit(0);
    } catch (error) {
      logger.error({ error: describeError(error) }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

function fail(logger: Logger, message: string): never {
  logger.fatal({}, message);
  process.exit(configErrorExitCode);
}

process.on("unhandledRejection", (reason) => {
  console.error("unhandled rejection:", describeError(reason));
});

try {
  await main();
} catch (error) {
  console.error(`Startup failed: ${describeError(error)}`);
  process.exit(1);
}
