import type { RateLimit, ReceiveContext } from "@basalt/core";
import type { DatabaseHandle } from "@basalt/db";
import type { Logger } from "pino";
import type { Metrics } from "./metrics";

/** Everything the HTTP app needs; `createApp` builds routes from it without listening. */
export interface AppDeps {
  /** The core context for receiving webhooks; it is also the context of every other use case. */
  readonly core: ReceiveContext;
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  /** Bearer key of internal callers; without one the internal routes respond with 503. */
  readonly internalApiKey: string | undefined;
  /** Serves `POST /api/internal/seed`, for the embedded database only, where no other process can seed. */
  readonly enableDemoSeed: boolean;
  /** Submissions allowed per client address and window on the public form route. */
  readonly formRateLimit: RateLimit;
  /** The client's address of a request, or null when it is unknown (as in tests through `app.handle`). */
  readonly clientAddress: (request: Request) => string | null;
}
