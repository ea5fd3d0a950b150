import { type Executor, leadActivities } from "@basalt/db";
import { newId } from "../ids";

export interface LeadActivityInput {
  readonly leadId: string;
  /** A stable machine name such as `invoice.paid` or `email.opened`. */
  readonly kind: string;
  readonly summary: string;
  /** The provider's time of the event, which orders the timeline. */
  readonly occurredAt: Date;
  readonly eventId?: string | null;
  readonly data?: Record<string, unknown>;
}

export async function addLeadActivity(db: Executor, activity: LeadActivityInput): Promise<void> {
  await db.insert(leadActivities).values({
    id: newId("act"),
    leadId: activity.leadId,
    kind: activity.kind,
    summary: activity.summary,
    occurredAt: activity.occurredAt,
    eventId: activity.eventId ?? null,
    data: activity.data ?? null,
  });
}
