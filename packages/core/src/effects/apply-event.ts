import type { EventSource } from "@basalt/db";
import { decodeJson } from "../inbound/json";
import { handleBasaltechoEvent } from "./basaltecho/handle-basaltecho-event";
import type { EffectResult, EventEffectContext } from "./context";
import { handleOpenaiEvent } from "./openai/handle-openai-event";
import { handleResendEvent } from "./resend/handle-resend-event";
import { handleSurgeEvent } from "./surge/handle-surge-event";

const handlers: Record<EventSource, (ctx: EventEffectContext, payload: unknown) => Promise<EffectResult>> = {
  surge: handleSurgeEvent,
  basaltecho: handleBasaltechoEvent,
  resend: handleResendEvent,
  openai: handleOpenaiEvent,
};

/** Applies a stored event's side effects inside the caller's transaction. */
export function applyEvent(ctx: EventEffectContext): Promise<EffectResult> {
  const json = decodeJson(ctx.event.body);
  if (!json.ok) {
    // Receiving stores undecodable bodies as rejected, so a pending one means the row was edited.
    throw new Error(`stored body of event ${ctx.event.id} is not JSON: ${json.message}`);
  }
  return handlers[ctx.event.source](ctx, json.value);
}
