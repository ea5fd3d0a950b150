import type { CoreContext } from "../context";
import { type ScheduleMeetingInput, type ScheduleMeetingResult, scheduleMeeting } from "./schedule-meeting";

export type BookMeetingInput = Omit<ScheduleMeetingInput, "bookedBy" | "occurredAt" | "now" | "eventId">;

/** Books a meeting for an internal API caller, in a transaction of its own. */
export async function bookMeeting(ctx: CoreContext, input: BookMeetingInput): Promise<ScheduleMeetingResult> {
  const now = ctx.clock.now();
  const result = await ctx.db.transaction((tx) =>
    scheduleMeeting(tx, { ...input, bookedBy: "api", occurredAt: now, now }),
  );
  ctx.logger.info(
    { lead_id: input.leadId, meeting_id: result.meeting.id, created: result.created },
    result.created ? "meeting booked" : "meeting request repeated; existing meeting returned",
  );
  return result;
}
