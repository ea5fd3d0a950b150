import { type EmailStatus, emailSuppressions, leads, outreachEmails } from "@basalt/db";
import { and, eq } from "drizzle-orm";
import { addLeadActivity } from "../../crm/activities";
import type { ResendEmailEvent } from "../../inbound/payloads/resend";
import { crmEventPayload } from "../../outbound/outbox/crm-events";
import { type EffectResult, type EventEffectContext, processed } from "../context";

/** Order of delivery progress. BOUNCED and COMPLAINED are final and outrank everything. */
const statusRank: Record<EmailStatus, number> = {
  SENT: 0,
  DELIVERED: 1,
  OPENED: 2,
  CLICKED: 3,
  BOUNCED: 100,
  COMPLAINED: 100,
};

type TimestampColumn = "sentAt" | "deliveredAt" | "openedAt" | "clickedAt" | "bouncedAt" | "complainedAt";

/** Status each Resend event type moves an email to, and the first-time timestamp it records. */
const transitions: Record<string, { status: EmailStatus; timestamp: TimestampColumn }> = {
  "email.sent": { status: "SENT", timestamp: "sentAt" },
  "email.delivered": { status: "DELIVERED", timestamp: "deliveredAt" },
  "email.opened": { status: "OPENED", timestamp: "openedAt" },
  "email.clicked": { status: "CLICKED", timestamp: "clickedAt" },
  "email.bounced": { status: "BOUNCED", timestamp: "bouncedAt" },
  "email.complained": { status: "COMPLAINED", timestamp: "complainedAt" },
};

/**
 * Applies a Resend event to the outreach email it is about. Status only moves forward, so a late
 * `email.delivered` after `email.opened` is kept on the timeline but leaves the status OPENED. A
 * permanent bounce or a complaint suppresses the address; a complaint also opts the lead out.
 */
export async function applyEmailEvent(ctx: EventEffectContext, event: ResendEmailEvent): Promise<EffectResult> {
  const { tx, now, occurredAt } = ctx;
  const [email] = await tx
    .select()
    .from(outreachEmails)
    .where(eq(outreachEmails.providerEmailId, event.data.email_id))
    .for("update");
  if (!email) {
    return { status: "ignored", reason: `email ${event.data.email_id} was not sent by this service` };
  }

  // Resend reports bounces of type Permanent, Transient or Undetermined; only a permanent one is final.
  const bounceType = event.data.bounce?.type;
  const softBounce =
    event.type === "email.bounced" && bounceType !== undefined && bounceType.toLowerCase() !== "permanent";
  const transition = softBounce ? undefined : transitions[event.type];

  let statusChanged = false;
  if (transition) {
    const advances = statusRank[email.status] < 100 && statusRank[transition.status] > statusRank[email.status];
    statusChanged = advances;
    await tx
      .update(outreachEmails)
      .set({
        ...(advances ? { status: transition.status } : {}),
        [transition.timestamp]: earliest(email[transition.timestamp], occurredAt),
        updatedAt: now,
      })
      .where(eq(outreachEmails.id, email.id));
  }

  const address = email.toAddress.trim().toLowerCase();
  if (transition?.status === "BOUNCED" || transition?.status === "COMPLAINED") {
    await tx
      .insert(emailSuppressions)
      .values({
        email: address,
        reason: transition.status === "BOUNCED" ? "bounced" : "complained",
        eventId: ctx.event.id,
      })
      .onConflictDoNothing();
  }
  if (statusChanged && (transition?.status === "BOUNCED" || transition?.status === "COMPLAINED")) {
    const type = transition.status === "BOUNCED" ? "email.bounced" : "email.complained";
    await ctx.outbox.recordEvent(
      type,
      crmEventPayload(type, occurredAt, {
        email_id: event.data.email_id,
        outreach_email_id: email.id,
        lead_id: email.leadId,
        to: email.toAddress,
        subject: email.subject,
        ...(type === "email.bounced" ? { bounce_type: bounceType ?? null } : {}),
      }),
    );
  }
  if (transition?.status === "COMPLAINED" && email.leadId) {
    // A lead that already opted out keeps the time it first did.
    await tx
      .update(leads)
      .set({ optedOut: true, optedOutAt: occurredAt, updatedAt: now })
      .where(and(eq(leads.id, email.leadId), eq(leads.optedOut, false)));
  }

  if (email.leadId) {
    await addLeadActivity(tx, {
      leadId: email.leadId,
      kind: event.type,
      summary: describe(event.type, email.subject, softBounce, statusChanged),
      occurredAt,
      eventId: ctx.event.id,
      data: { outreachEmailId: email.id, statusChanged, ...(bounceType ? { bounceType } : {}) },
    });
  }
  return processed;
}

/**
 * Returns the earlier of a stored first-time timestamp and an event's time, because events can arrive
 * out of order.
 */
function earliest(stored: Date | null, occurredAt: Date): Date {
  return stored !== null && stored <= occurredAt ? stored : occurredAt;
}

function describe(type: string, subject: string, softBounce: boolean, statusChanged: boolean): string {
  const what = softBounce ? "email.bounced (temporary)" : type;
  return `Email "${subject}": ${what}${statusChanged ? "" : " (status unchanged)"}`;
}
