import type { CoreContext } from "../context";
import { Outbox } from "../outbound/outbox/outbox";
import { type ScheduleMeetingInput, type ScheduleMeetingResult, scheduleMeeting } from "./schedule-meeting";

export type BookMeetingInput = Omit<ScheduleMeetingInput, "bookedBy" | "occurredAt" | "now" | "eventId" | "outbox">;

/** Books a meeting for an internal API caller, in a transaction of its own. */
export async function bookMeeting(ctx: CoreContext, input: BookMeetingInput): Promise<ScheduleMeetingResult> {
  const now = ctx.clock.now();
  let queued = 0;
  const result = await ctx.db.transaction(async (tx) => {
    const outbox = new Outbox(tx, now);
    const scheduled = await scheduleMeeting(tx, { ...input, bookedBy: "api", occurredAt: now, now, outbox });
    queued = outbox.queued;
    return scheduled;
  });
  if (queued > 0) {
    ctx.onDeliveriesQueued?.();
  }
  ctx.logger.info(
    { lead_id: input.leadId, meeting_id: result.meeting.id, created: result.created },
    result.created ? "meeting booked" : "meeting request repeated; existing meeting returned",
  );
  return result;
}
