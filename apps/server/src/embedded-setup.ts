import type { CoreContext } from "@basalt/core";
import {
  createSecret,
  type EventSource,
  eventSources,
  SecretCipher,
  type SecretStore,
  sourceDefinitions,
} from "@basalt/core";
import type { DataFolder } from "./data-folder";

/**
 * Gives each source without a secret a generated one on first start of the embedded mode. The values
 * are also written to the data folder, readable by its owner only, for the trigger command. That adds
 * no exposure, because the encryption key of the stored copies is in the same folder.
 */
export async function generateMissingSecrets(
  ctx: CoreContext & { secrets: SecretStore },
  folder: DataFolder,
): Promise<EventSource[]> {
  const generated = folder.readGeneratedSecrets();
  const created: EventSource[] = [];
  for (const source of eventSources) {
    if ((await ctx.secrets.keysFor(source)).length > 0) {
      continue;
    }
    const secret = await createSecret(ctx, { source });
    generated[source] = secret.value;
    created.push(source);
  }
  if (created.length > 0) {
    folder.writeGeneratedSecrets(generated);
  }
  return created;
}

export function embeddedEncryptionKey(folder: DataFolder): string {
  return folder.readOrCreate("encryption.key", () => SecretCipher.generateKey()).value;
}

export function embeddedInternalApiKey(folder: DataFolder): string {
  return folder.readOrCreate("internal-api-key", () => crypto.getRandomValues(new Uint8Array(32)).toHex()).value;
}

export function secretEnvNames(source: EventSource): string {
  return sourceDefinitions[source].secretEnv.join(" or ");
}
