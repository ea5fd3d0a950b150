import { callRoutes, incomingCalls } from "@basalt/db";
import { asc, eq } from "drizzle-orm";
import { newId } from "../../ids";
import type { OpenaiCallIncomingEvent } from "../../inbound/payloads/openai";
import { urgentPriority } from "../../outbound/outbox/outbox";
import { type EffectResult, type EventEffectContext, processed } from "../context";
import { matchesSipAddress, sipAddress } from "./sip-address";

/** SIP status for a call that no route matches: 603 Decline. */
export const unroutedCallStatus = 603;

/**
 * Chooses how an incoming call is answered: the first enabled route, by position, whose To and From
 * patterns match. The decision is stored for the call-answering job; no route means reject with 603.
 */
export async function routeIncomingCall(
  ctx: EventEffectContext,
  event: OpenaiCallIncomingEvent,
): Promise<EffectResult> {
  const headers = event.data.sip_headers;
  const to = sipAddress(headers, "To");
  const from = sipAddress(headers, "From");
  const routes = await ctx.tx
    .select()
    .from(callRoutes)
    .where(eq(callRoutes.enabled, true))
    .orderBy(asc(callRoutes.position), asc(callRoutes.createdAt));
  const route = routes.find(
    (candidate) => matchesSipAddress(candidate.matchTo, to) && matchesSipAddress(candidate.matchFrom, from),
  );

  const decision = route
    ? {
        routeId: route.id,
        action: route.action,
        rejectStatusCode: route.action === "reject" ? (route.rejectStatusCode ?? unroutedCallStatus) : null,
        reason: `matched call route ${route.name}`,
      }
    : {
        routeId: null,
        action: "reject" as const,
        rejectStatusCode: unroutedCallStatus,
        reason: `no call route matches To ${to ?? "(none)"} and From ${from ?? "(none)"}, so the call is rejected with ${unroutedCallStatus}`,
      };

  const inserted = await ctx.tx
    .insert(incomingCalls)
    .values({
      id: newId("inc"),
      eventId: ctx.event.id,
      callId: event.data.call_id,
      fromAddress: from,
      toAddress: to,
      sipHeaders: headers,
      ...decision,
    })
    .onConflictDoNothing({ target: incomingCalls.callId })
    .returning({ id: incomingCalls.id });
  const incomingCall = inserted[0];
  if (!incomingCall) {
    return { status: "ignored", reason: `call ${event.data.call_id} was already routed by an earlier event` };
  }

  const job: CallAnswerJob = {
    incomingCallId: incomingCall.id,
    callId: event.data.call_id,
    action: decision.action,
    rejectStatusCode: decision.rejectStatusCode,
    sessionSettings: route?.action === "accept" ? (route.sessionSettings ?? {}) : null,
  };
  // A caller hangs up after a few seconds, so this job goes ahead of every other delivery.
  await ctx.outbox.queueIntegration("openai_call", job, urgentPriority);
  return processed;
}

/** The request to answer an incoming call, as the OpenAI call job receives it. */
export interface CallAnswerJob {
  readonly incomingCallId: string;
  readonly callId: string;
  readonly action: "accept" | "reject";
  readonly rejectStatusCode: number | null;
  /** Session settings of the matched route, sent with an accept. */
  readonly sessionSettings: Record<string, unknown> | null;
}
