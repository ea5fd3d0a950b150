import type { Database } from "@basalt/db";
import type { Clock } from "./clock";
import type { Logger } from "./logger";

/** The context of every core use case: the database, the time and a logger. */
export interface CoreContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly logger: Logger;
}
