import type { Database } from "@basalt/db";
import type { Clock } from "./clock";
import type { Logger } from "./logger";

/** The context of every core use case: the database, the time and a logger. */
export interface CoreContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called after a commit that queued outbound deliveries, so a delivery worker starts on them at once. */
  readonly onDeliveriesQueued?: () => void;
}
