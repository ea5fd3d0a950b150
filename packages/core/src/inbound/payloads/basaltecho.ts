import { z } from "zod";
import { defaultMeetingMinutes, meetingTimeProblem } from "../../meetings/meeting-time";
import { ianaTimeZone, identifier, providerTime } from "./common";

/** Tool arguments arrive as an object, or as a JSON string the way model tool calls encode them. */
const toolArguments = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== "string") {
      return value;
    }
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);

const common = {
  leadId: identifier,
  eventId: identifier.optional(),
  ts: providerTime.optional(),
};

export const scheduleMeetingEvent = z.object({
  ...common,
  type: z.literal("tool_call"),
  name: z.literal("schedule_meeting"),
  args: toolArguments(
    z
      .object({
        datetime: z.iso.datetime({
          offset: true,
          error: "must be an ISO 8601 time with Z or a UTC offset, such as 2026-03-01T15:00:00Z",
        }),
        timezone: ianaTimeZone,
        title: z.string().trim().min(1).max(200).optional(),
        durationMinutes: z.number().int().min(5).max(480).optional(),
      })
      .superRefine((args, context) => {
        const startsAt = new Date(args.datetime);
        // Zod also runs this check when the datetime format check failed, which has already named the field.
        if (Number.isNaN(startsAt.getTime())) {
          return;
        }
        const problem = meetingTimeProblem(startsAt, args.durationMinutes ?? defaultMeetingMinutes);
        if (problem !== null) {
          context.addIssue({ code: "custom", path: ["datetime"], message: problem });
        }
      }),
  ),
});
export type ScheduleMeetingEvent = z.infer<typeof scheduleMeetingEvent>;

export const callConnectedEvent = z.object({
  ...common,
  type: z.literal("call_connected"),
  callId: identifier.optional(),
});
export type CallConnectedEvent = z.infer<typeof callConnectedEvent>;

export const callEndedEvent = z.object({
  ...common,
  type: z.literal("call_ended"),
  callId: identifier.optional(),
  durationSec: z.number().min(0).max(86_400).optional(),
});
export type CallEndedEvent = z.infer<typeof callEndedEvent>;
