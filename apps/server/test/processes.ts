import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const repositoryRoot = new URL("../../..", import.meta.url).pathname;

export interface RunningProcess {
  readonly process: ReturnType<typeof Bun.spawn>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts a command from the repository root with extra environment variables, collecting its output. */
export function start(command: string[], env: Record<string, string>): RunningProcess {
  const child = Bun.spawn(command, {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_FORMAT: "json", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let collected = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      collected += decoder.decode(chunk, { stream: true });
    }
  };
  void collect(child.stdout);
  void collect(child.stderr);
  return {
    process: child,
    output: () => collected,
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      return child.exited;
    },
  };
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(
  command: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(command, {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/** Polls `check` until it returns a value, or throws with `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until the embedded server in `dataDir` has written its address, and returns it. */
export function waitForServerFile(dataDir: string, server: RunningProcess): Promise<string> {
  return waitFor(`the server file in ${dataDir}\n${server.output()}`, () => {
    const file = join(dataDir, "server.json");
    if (!existsSync(file)) {
      return undefined;
    }
    return (JSON.parse(readFileSync(file, "utf8")) as { url: string }).url;
  });
}

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port ?? 0;
  await probe.stop(true);
  return port;
}
