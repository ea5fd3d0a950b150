import { aiAnalyticsEvents } from "@basalt/db";
import { newId } from "../../ids";
import type { OpenaiResponseEvent } from "../../inbound/payloads/openai";
import type { EventEffectContext } from "../context";

/** Records a model response event as one analytics row; the unique event id makes a replay count once. */
export async function recordResponse(ctx: EventEffectContext, event: OpenaiResponseEvent): Promise<void> {
  await ctx.tx
    .insert(aiAnalyticsEvents)
    .values({
      id: newId("aie"),
      eventId: ctx.event.id,
      eventType: event.type,
      status: event.type.slice("response.".length),
      responseId: event.data.id ?? null,
      sessionId: event.data.session_id ?? null,
      model: event.data.model ?? null,
      durationMs: event.data.duration_ms ?? null,
      occurredAt: ctx.occurredAt,
    })
    .onConflictDoNothing({ target: aiAnalyticsEvents.eventId });
}
