import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Files the embedded mode keeps next to its database: the generated encryption key, internal API key
 * and signing secrets, and the address of the running server. Every file is readable by its owner only.
 */
export class DataFolder {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  get databasePath(): string {
    return join(this.path, "pglite");
  }

  get generatedSecretsPath(): string {
    return join(this.path, "generated-secrets.json");
  }

  get serverFilePath(): string {
    return join(this.path, "server.json");
  }

  /** Creates the folder if needed and makes it private: the database files inside are not. */
  ensure(): void {
    mkdirSync(this.path, { recursive: true, mode: 0o700 });
    chmodSync(this.path, 0o700);
  }

  /** Returns the value stored under `name`, creating it with `generate` on first use. */
  readOrCreate(name: string, generate: () => string): { value: string; created: boolean } {
    const file = join(this.path, name);
    if (existsSync(file)) {
      return { value: readFileSync(file, "utf8").trim(), created: false };
    }
    const value = generate();
    writePrivate(file, `${value}\n`);
    return { value, created: true };
  }

  /** The internal API key the embedded mode generated, or null before the first start. */
  readInternalApiKey(): string | null {
    const file = join(this.path, "internal-api-key");
    return existsSync(file) ? readFileSync(file, "utf8").trim() || null : null;
  }

  readGeneratedSecrets(): Record<string, string> {
    return readJson(this.generatedSecretsPath) ?? {};
  }

  writeGeneratedSecrets(secrets: Record<string, string>): void {
    writePrivate(this.generatedSecretsPath, `${JSON.stringify(secrets, null, 2)}\n`);
  }

  readServerFile(): ServerFile | null {
    return readJson<ServerFile>(this.serverFilePath);
  }

  writeServerFile(file: ServerFile): void {
    writePrivate(this.serverFilePath, `${JSON.stringify(file, null, 2)}\n`);
  }

  removeServerFile(): void {
    rmSync(this.serverFilePath, { force: true });
  }
}

/** The address of the running embedded server, which `bun run seed` and `bun run trigger` read. */
export interface ServerFile {
  readonly pid: number;
  readonly url: string;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means the process exists but belongs to another user.
    return (error as { code?: string }).code === "EPERM";
  }
}

function writePrivate(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function readJson<T>(file: string): T | null {
  if (!existsSync(file)) {
    return null;
  }
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return null;
  }
}
