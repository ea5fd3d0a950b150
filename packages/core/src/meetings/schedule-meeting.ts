import { type Executor, leads, meetings } from "@basalt/db";
import { eq } from "drizzle-orm";
import { addLeadActivity } from "../crm/activities";
import { isLaterStage } from "../crm/pipeline";
import { ConflictError, FieldValidationError, NotFoundError } from "../errors";
import { newId } from "../ids";
import { crmEventPayload } from "../outbound/outbox/crm-events";
import type { Outbox } from "../outbound/outbox/outbox";
import { defaultMeetingMinutes, meetingTimeProblem } from "./meeting-time";

export { defaultMeetingMinutes };

export interface ScheduleMeetingInput {
  readonly leadId: string;
  readonly startsAt: Date;
  /** IANA time zone the meeting was booked in, validated by the caller's schema. */
  readonly timezone: string;
  readonly title?: string | undefined;
  readonly durationMinutes?: number | undefined;
  /** `basaltecho` for the voice agent, `api` for internal callers. */
  readonly bookedBy: "basaltecho" | "api";
  /**
   * Makes a repeated request return the first meeting instead of booking another. A request that
   * differs from the first one raises ConflictError.
   */
  readonly idempotencyKey?: string | undefined;
  readonly eventId?: string | null;
  readonly occurredAt: Date;
  readonly now: Date;
  /** Records `meeting.scheduled` and `lead.stage_changed` for customer endpoints in the same transaction. */
  readonly outbox: Outbox;
}

export type Meeting = typeof meetings.$inferSelect;

export interface ScheduleMeetingResult {
  readonly meeting: Meeting;
  /** False when the idempotency key had already booked this meeting. */
  readonly created: boolean;
}

/**
 * Books a meeting with a lead, moves the lead to Engage_Human unless it is already further along, and
 * marks its outreach as meeting booked. Serves both the voice agent's tool call and the meeting API.
 * Raises FieldValidationError for a meeting time that Postgres cannot store, NotFoundError for an
 * unknown lead, and ConflictError for an idempotency key used by another lead or another request.
 */
export async function scheduleMeeting(tx: Executor, input: ScheduleMeetingInput): Promise<ScheduleMeetingResult> {
  const durationMinutes = input.durationMinutes ?? defaultMeetingMinutes;
  const timeProblem = meetingTimeProblem(input.startsAt, durationMinutes);
  if (timeProblem !== null) {
    throw new FieldValidationError({ datetime: timeProblem });
  }

  const [lead] = await tx.select().from(leads).where(eq(leads.id, input.leadId)).for("update");
  if (!lead) {
    throw new NotFoundError(`lead ${input.leadId} not found`);
  }
  const requested: RequestedMeeting = {
    startsAt: input.startsAt,
    timezone: input.timezone,
    title: input.title ?? `Meeting with ${[lead.firstName, lead.lastName].filter(Boolean).join(" ") || lead.id}`,
    durationMinutes,
  };

  const inserted = await tx
    .insert(meetings)
    .values({
      id: newId("mtg"),
      leadId: lead.id,
      ...requested,
      bookedBy: input.bookedBy,
      idempotencyKey: input.idempotencyKey ?? null,
    })
    .onConflictDoNothing({ target: meetings.idempotencyKey })
    .returning();
  const meeting = inserted[0];
  if (!meeting) {
    const [existing] = await tx
      .select()
      .from(meetings)
      .where(eq(meetings.idempotencyKey, input.idempotencyKey ?? ""));
    if (!existing) {
      throw new Error(`meeting with idempotency key ${input.idempotencyKey} conflicted but was not found`);
    }
    // Keys are unique across all leads, so a reused key must not hand out another lead's meeting.
    if (existing.leadId !== lead.id) {
      throw new ConflictError(
        `idempotency key ${input.idempotencyKey} was already used to book a meeting for another lead. Send a new key to book for lead ${lead.id}.`,
      );
    }
    const changed = changedFields(existing, requested);
    if (changed.length > 0) {
      throw new ConflictError(
        `idempotency key ${input.idempotencyKey} was already used with a different request: ${changed.join(", ")} ` +
          `${changed.length === 1 ? "differs" : "differ"} from the first booking. Send a new key to book another ` +
          "meeting, or repeat the first request unchanged.",
      );
    }
    return { meeting: existing, created: false };
  }

  const advances = isLaterStage(lead.pipelineStage, "Engage_Human");
  // Records the provider's time of the booking, not when a retry ran. A later booking already recorded stays.
  const bookedAt =
    lead.meetingBookedAt !== null && lead.meetingBookedAt > input.occurredAt ? lead.meetingBookedAt : input.occurredAt;
  await tx
    .update(leads)
    .set({
      pipelineStage: advances ? "Engage_Human" : lead.pipelineStage,
      meetingBookedAt: bookedAt,
      updatedAt: input.now,
    })
    .where(eq(leads.id, lead.id));

  await addLeadActivity(tx, {
    leadId: lead.id,
    kind: "meeting.scheduled",
    summary: `Meeting booked for ${meeting.startsAt.toISOString()} (${meeting.timezone}) by ${input.bookedBy}`,
    occurredAt: input.occurredAt,
    eventId: input.eventId ?? null,
    data: { meetingId: meeting.id },
  });
  if (advances) {
    await addLeadActivity(tx, {
      leadId: lead.id,
      kind: "lead.stage_changed",
      summary: `Pipeline stage ${lead.pipelineStage} → Engage_Human`,
      occurredAt: input.occurredAt,
      eventId: input.eventId ?? null,
      data: { from: lead.pipelineStage, to: "Engage_Human" },
    });
  }

  await input.outbox.recordEvent(
    "meeting.scheduled",
    crmEventPayload("meeting.scheduled", input.occurredAt, {
      meeting_id: meeting.id,
      lead_id: lead.id,
      starts_at: meeting.startsAt.toISOString(),
      timezone: meeting.timezone,
      title: meeting.title,
      duration_minutes: meeting.durationMinutes,
      booked_by: meeting.bookedBy,
    }),
  );
  if (advances) {
    await input.outbox.recordEvent(
      "lead.stage_changed",
      crmEventPayload("lead.stage_changed", input.occurredAt, {
        lead_id: lead.id,
        from: lead.pipelineStage,
        to: "Engage_Human",
      }),
    );
  }
  return { meeting, created: true };
}

/** The meeting that a request books, with the defaults applied. */
type RequestedMeeting = Pick<Meeting, "startsAt" | "timezone" | "title" | "durationMinutes">;

/**
 * Lists the request fields, by their names in the API and the tool call, whose values differ from the
 * stored meeting. The stored row is the record of the first request, because the meetings table has no
 * column for a hash of the request itself.
 */
function changedFields(stored: Meeting, requested: RequestedMeeting): string[] {
  const changed: string[] = [];
  if (stored.startsAt.getTime() !== requested.startsAt.getTime()) {
    changed.push("datetime");
  }
  if (stored.timezone !== requested.timezone) {
    changed.push("timezone");
  }
  // NOTE: a request without a title is compared with the default title for the lead's current name,
  // so a repeat after the lead was renamed counts as a different request.
  if (stored.title !== requested.title) {
    changed.push("title");
  }
  if (stored.durationMinutes !== requested.durationMinutes) {
    changed.push("durationMinutes");
  }
  return changed;
}
