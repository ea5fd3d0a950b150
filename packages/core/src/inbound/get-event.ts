import { type EventSource, type EventStatus, webhookEvents } from "@basalt/db";
import { eq } from "drizzle-orm";
import type { CoreContext } from "../context";
import { NotFoundError } from "../errors";

/** Summary of a stored event for internal callers: its state, never its body or headers. */
export interface EventSummary {
  readonly id: string;
  readonly source: EventSource;
  readonly eventType: string | null;
  readonly status: EventStatus;
  readonly statusReason: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly receivedAt: Date;
  readonly processedAt: Date | null;
  readonly nextAttemptAt: Date | null;
}

export async function getEventSummary(ctx: CoreContext, id: string): Promise<EventSummary> {
  const [event] = await ctx.db
    .select({
      id: webhookEvents.id,
      source: webhookEvents.source,
      eventType: webhookEvents.eventType,
      status: webhookEvents.status,
      statusReason: webhookEvents.statusReason,
      attempts: webhookEvents.attempts,
      lastError: webhookEvents.lastError,
      receivedAt: webhookEvents.receivedAt,
      processedAt: webhookEvents.processedAt,
      nextAttemptAt: webhookEvents.nextAttemptAt,
    })
    .from(webhookEvents)
    .where(eq(webhookEvents.id, id));
  if (!event) {
    throw new NotFoundError(`event ${id} not found`);
  }
  return event;
}
