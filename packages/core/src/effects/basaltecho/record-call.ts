import { type CallStatus, calls, type Executor, followUpIntents, leads } from "@basalt/db";
import { and, asc, desc, eq, gte, isNull } from "drizzle-orm";
import { addLeadActivity } from "../../crm/activities";
import { ConflictError, NotFoundError } from "../../errors";
import { newId } from "../../ids";
import { crmEventPayload } from "../../outbound/outbox/crm-events";
import type { EventEffectContext } from "../context";

/** Follow-up after a call is due this long after the call ended. */
export const postCallFollowUpDelayMs = 2 * 24 * 3_600_000;

const callStatusRank: Record<CallStatus, number> = { INITIATED: 0, CONNECTED: 1, ENDED: 2 };

type Lead = typeof leads.$inferSelect;

async function lockLead(tx: Executor, leadId: string): Promise<Lead> {
  const [lead] = await tx.select().from(leads).where(eq(leads.id, leadId)).for("update");
  if (!lead) {
    throw new NotFoundError(`lead ${leadId} not found`);
  }
  return lead;
}

/**
 * True when an event at `occurredAt` may set the lead's call status: it is newer than the status it
 * would replace, or equally old and further along. An older event never rolls the status back.
 */
function isNewerCallStatus(lead: Lead, status: CallStatus, occurredAt: Date): boolean {
  if (lead.callStatus === null || lead.callStatusAt === null) {
    return true;
  }
  const difference = occurredAt.getTime() - lead.callStatusAt.getTime();
  return difference > 0 || (difference === 0 && callStatusRank[status] > callStatusRank[lead.callStatus]);
}

/** Finds the call an event is about: by the provider's call id, or the lead's newest open call. */
async function findCall(tx: Executor, leadId: string, providerCallId: string | undefined) {
  if (providerCallId !== undefined) {
    const [call] = await tx.select().from(calls).where(eq(calls.providerCallId, providerCallId)).for("update");
    if (call && call.leadId !== leadId) {
      throw new ConflictError(`call ${providerCallId} belongs to lead ${call.leadId}, not to lead ${leadId}`);
    }
    return call;
  }
  const [open] = await tx
    .select()
    .from(calls)
    .where(and(eq(calls.leadId, leadId), isNull(calls.endedAt)))
    .orderBy(desc(calls.createdAt))
    .limit(1)
    .for("update");
  return open;
}

/**
 * Finds the call that a late `call_connected` without a call id belongs to. It is the lead's earliest
 * call without a provider id that ended at or after `occurredAt` and has no connect time yet.
 */
async function findCallEndedAfter(tx: Executor, leadId: string, occurredAt: Date) {
  const [ended] = await tx
    .select()
    .from(calls)
    .where(
      and(
        eq(calls.leadId, leadId),
        isNull(calls.providerCallId),
        isNull(calls.connectedAt),
        gte(calls.endedAt, occurredAt),
      ),
    )
    .orderBy(asc(calls.endedAt))
    .limit(1)
    .for("update");
  return ended;
}

export interface CallEventInput {
  readonly leadId: string;
  readonly callId?: string | undefined;
}

/**
 * Records that a call connected: the lead's call status becomes CONNECTED unless the call already ended.
 * A report that arrives after its call ended only fills in the call's connect time and the timeline.
 */
export async function recordCallConnected(ctx: EventEffectContext, input: CallEventInput): Promise<void> {
  const { tx, now, occurredAt } = ctx;
  const lead = await lockLead(tx, input.leadId);
  // Without a call id, a connect that predates a call whose end arrived first belongs to that call.
  const lateForEndedCall = input.callId === undefined ? await findCallEndedAfter(tx, lead.id, occurredAt) : undefined;
  const call = lateForEndedCall ?? (await findCall(tx, lead.id, input.callId));

  if (call?.status === "ENDED") {
    if (call.connectedAt === null) {
      await tx.update(calls).set({ connectedAt: occurredAt, updatedAt: now }).where(eq(calls.id, call.id));
    }
    await addLeadActivity(tx, {
      leadId: lead.id,
      kind: "call.connected",
      summary: "Call connected (reported after the call ended)",
      occurredAt,
      eventId: ctx.event.id,
      data: { callId: call.id },
    });
    return;
  }
  const callId = call?.id ?? newId("call");
  if (call) {
    await tx
      .update(calls)
      .set({ status: "CONNECTED", connectedAt: occurredAt, updatedAt: now })
      .where(eq(calls.id, call.id));
  } else {
    await tx.insert(calls).values({
      id: callId,
      leadId: lead.id,
      providerCallId: input.callId ?? null,
      status: "CONNECTED",
      connectedAt: occurredAt,
    });
  }
  if (isNewerCallStatus(lead, "CONNECTED", occurredAt)) {
    await tx
      .update(leads)
      .set({ callStatus: "CONNECTED", callStatusAt: occurredAt, updatedAt: now })
      .where(eq(leads.id, lead.id));
  }
  await addLeadActivity(tx, {
    leadId: lead.id,
    kind: "call.connected",
    summary: "Call connected",
    occurredAt,
    eventId: ctx.event.id,
    data: { callId },
  });
}

/**
 * Records that a call ended: its duration, the lead's call status ENDED, the lead CONTACTED if it was
 * NEW, and a post-call follow-up due two days after the call ended.
 */
export async function recordCallEnded(
  ctx: EventEffectContext,
  input: CallEventInput & { readonly durationSec?: number | undefined },
): Promise<void> {
  const { tx, now, occurredAt } = ctx;
  const lead = await lockLead(tx, input.leadId);
  const call = await findCall(tx, lead.id, input.callId);
  const durationSec = input.durationSec === undefined ? null : Math.round(input.durationSec);

  const alreadyEnded = call?.status === "ENDED";
  const callId = call?.id ?? newId("call");
  if (call) {
    await tx
      .update(calls)
      .set({ status: "ENDED", endedAt: occurredAt, durationSec: durationSec ?? call.durationSec, updatedAt: now })
      .where(eq(calls.id, call.id));
  } else {
    await tx.insert(calls).values({
      id: callId,
      leadId: lead.id,
      providerCallId: input.callId ?? null,
      status: "ENDED",
      endedAt: occurredAt,
      durationSec,
    });
  }

  await tx
    .update(leads)
    .set({
      ...(isNewerCallStatus(lead, "ENDED", occurredAt)
        ? { callStatus: "ENDED" as const, callStatusAt: occurredAt }
        : {}),
      status: lead.status === "NEW" ? "CONTACTED" : lead.status,
      updatedAt: now,
    })
    .where(eq(leads.id, lead.id));

  await tx
    .insert(followUpIntents)
    .values({
      id: newId("fui"),
      leadId: lead.id,
      kind: "post_call",
      dueAt: new Date(occurredAt.getTime() + postCallFollowUpDelayMs),
      callId,
      idempotencyKey: `post_call:${callId}`,
    })
    .onConflictDoNothing({ target: followUpIntents.idempotencyKey });

  await addLeadActivity(tx, {
    leadId: lead.id,
    kind: "call.ended",
    summary: durationSec === null ? "Call ended" : `Call ended after ${durationSec} s`,
    occurredAt,
    eventId: ctx.event.id,
    data: { callId, durationSec },
  });

  // A repeated report of an ended call changes nothing a customer needs to hear about again.
  if (!alreadyEnded) {
    await ctx.outbox.recordEvent(
      "call.ended",
      crmEventPayload("call.ended", occurredAt, {
        call_id: callId,
        provider_call_id: input.callId ?? null,
        lead_id: lead.id,
        duration_sec: durationSec,
        ended_at: occurredAt.toISOString(),
      }),
    );
  }
}
