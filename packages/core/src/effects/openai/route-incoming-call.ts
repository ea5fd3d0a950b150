import { callRoutes, incomingCalls } from "@basalt/db";
import { asc, eq } from "drizzle-orm";
import { newId } from "../../ids";
import type { OpenaiCallIncomingEvent } from "../../inbound/payloads/openai";
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
  if (inserted.length === 0) {
    return { status: "ignored", reason: `call ${event.data.call_id} was already routed by an earlier event` };
  }
  return processed;
}
