import { openaiCallIncomingEvent, openaiCallIncomingType, openaiResponseEvent } from "../../inbound/payloads/openai";
import { type EffectResult, type EventEffectContext, processed } from "../context";
import { recordResponse } from "./record-response";
import { routeIncomingCall } from "./route-incoming-call";

/** Applies a stored OpenAI / Azure OpenAI event. */
export async function handleOpenaiEvent(ctx: EventEffectContext, payload: unknown): Promise<EffectResult> {
  if (ctx.event.eventType === openaiCallIncomingType) {
    return routeIncomingCall(ctx, openaiCallIncomingEvent.parse(payload));
  }
  await recordResponse(ctx, openaiResponseEvent.parse(payload));
  return processed;
}
