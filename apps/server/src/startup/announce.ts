import { type EventSource, eventSources, type SecretStore, sourceDefinitions } from "@basalt/core";
import type { Logger } from "pino";
import type { AppConfig } from "../config";
import type { DataFolder } from "../data-folder";
import { secretEnvNames } from "../embedded-setup";

/** Logs where the service listens and what each source accepts, and prints the endpoints on a terminal. */
export async function announce(input: {
  config: AppConfig;
  logger: Logger;
  secrets: SecretStore;
  url: string;
  embedded: boolean;
  folder: DataFolder;
  role: string;
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
