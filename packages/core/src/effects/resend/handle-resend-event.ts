import { resendEmailEvent } from "../../inbound/payloads/resend";
import type { EffectResult, EventEffectContext } from "../context";
import { applyEmailEvent } from "./apply-email-event";

/** Applies a stored Resend event. */
export function handleResendEvent(ctx: EventEffectContext, payload: unknown): Promise<EffectResult> {
  return applyEmailEvent(ctx, resendEmailEvent.parse(payload));
}
