import { callConnectedEvent, callEndedEvent, scheduleMeetingEvent } from "../../inbound/payloads/basaltecho";
import { scheduleMeeting } from "../../meetings/schedule-meeting";
import { type EffectResult, type EventEffectContext, processed } from "../context";
import { recordCallConnected, recordCallEnded } from "./record-call";

/** Applies a stored BasaltECHO voice event. */
export async function handleBasaltechoEvent(ctx: EventEffectContext, payload: unknown): Promise<EffectResult> {
  switch (ctx.event.eventType) {
    case "tool_call.schedule_meeting": {
      const event = scheduleMeetingEvent.parse(payload);
      await scheduleMeeting(ctx.tx, {
        leadId: event.leadId,
        startsAt: new Date(event.args.datetime),
        timezone: event.args.timezone,
        title: event.args.title,
        durationMinutes: event.args.durationMinutes,
        bookedBy: "basaltecho",
        idempotencyKey: `event:${ctx.event.id}`,
        eventId: ctx.event.id,
        occurredAt: ctx.occurredAt,
        now: ctx.now,
        outbox: ctx.outbox,
      });
      return processed;
    }
    case "call_connected": {
      const event = callConnectedEvent.parse(payload);
      await recordCallConnected(ctx, { leadId: event.leadId, callId: event.callId });
      return processed;
    }
    case "call_ended": {
      const event = callEndedEvent.parse(payload);
      await recordCallEnded(ctx, { leadId: event.leadId, callId: event.callId, durationSec: event.durationSec });
      return processed;
    }
    default:
      return { status: "ignored", reason: `BasaltECHO event type ${ctx.event.eventType} has no side effects here.` };
  }
}
