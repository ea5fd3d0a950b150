import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

/**
 * Creates the process logger: JSON lines for machines, or readable colored lines for a terminal. JSON
 * lines are written asynchronously in batches, so a line per request costs no write call each, and
 * `flushLogsSync` writes what is buffered before the process exits.
 */
export function createLogger(options: { level: string; format: "json" | "pretty" }): Logger {
  const settings = {
    level: options.level,
    base: { service: "basalt-webhooks" },
    // Fields that could carry credentials are dropped even if a caller passes them by mistake.
    redact: {
      paths: ["secret", "*.secret", "authorization", "*.authorization", "headers.authorization"],
      remove: true,
    },
  };
  if (options.format === "pretty") {
    return pino(settings, pretty({ colorize: true, ignore: "pid,hostname,service", translateTime: "SYS:HH:MM:ss.l" }));
  }
  return pino(settings, pino.destination({ dest: 1, sync: false }));
}

/**
 * Writes buffered log lines now, before the process exits. `logger.flush()` is asynchronous for the
 * batched JSON destination, so an exit right after it could lose the last lines.
 */
export function flushLogsSync(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // The pretty stream and a destination that is not open yet have nothing buffered to flush.
  }
}
