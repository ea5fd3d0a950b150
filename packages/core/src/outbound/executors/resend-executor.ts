import { emailSuppressions, outreachEmails } from "@basalt/db";
import { sql } from "drizzle-orm";
import { newId } from "../../ids";
import { parseRetryAfter } from "../settings";
import { attemptRecord, type DeliveryExecutor } from "./executor";
import { parseJsonBody, sendIntegrationRequest } from "./integration-request";

/** An email to send through Resend, as queued by a form submission. */
export interface EmailJob {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The lead the email is about, if any; the outreach email row links to it. */
  readonly leadId: string | null;
  /** `auto_respond` to the person who submitted a form, `notification` to a form's notify address. */
  readonly kind: "auto_respond" | "notification";
  readonly replyTo?: string | null;
}

/**
 * Sends an email with Resend's `POST /emails`, never to an address on the suppression list. The delivery
 * id is the Idempotency-Key, so a retry after a lost response does not send the email twice. The id that
 * Resend returns is stored on an outreach email row, so later Resend webhooks find it.
 *
 * NOTE: Resend documents its idempotency keys as kept for 24 hours, and the last retries come later
 * (the schedule spans about 27.6 hours). A response lost in the first day can still be followed by
 * a second email from a retry after that.
 */
export const resendExecutor: DeliveryExecutor = {
  async send(ctx, job) {
    const { apiUrl, apiKey, from } = ctx.integrations.resend;
    const email = JSON.parse(job.message.body) as EmailJob;
    if (!apiKey) {
      return { kind: "skipped", reason: "RESEND_API_KEY is not set, so emails are not sent" };
    }
    if (!from) {
      return { kind: "skipped", reason: "EMAIL_FROM is not set, so emails have no sender" };
    }
    const address = email.to.trim().toLowerCase();
    // Both sides in lower case, because a row added by hand or by an older version may keep the original case.
    const [suppressed] = await ctx.db
      .select()
      .from(emailSuppressions)
      .where(sql`lower(${emailSuppressions.email}) = ${address}`)
      .limit(1);
    if (suppressed) {
      return { kind: "skipped", reason: `${address} is on the suppression list (${suppressed.reason})` };
    }

    const startedAt = ctx.clock.now();
    const result = await sendIntegrationRequest(
      `${apiUrl}/emails`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "idempotency-key": job.delivery.id },
        body: {
          from,
          to: [email.to],
          subject: email.subject,
          text: email.text,
          ...(email.replyTo ? { reply_to: email.replyTo } : {}),
        },
      },
      ctx.http.timeoutMs,
    );
    const attempt = attemptRecord(startedAt, result);
    if (result.kind !== "response") {
      return { kind: "failed", attempt, error: `Resend request failed: ${result.message}` };
    }
    const answer = parseJsonBody(result.bodyPrefix) as { id?: unknown; message?: unknown } | null;
    if (result.status >= 200 && result.status < 300 && typeof answer?.id === "string") {
      return { kind: "succeeded", attempt, reason: `sent as Resend email ${answer.id}`, data: { emailId: answer.id } };
    }
    const detail = typeof answer?.message === "string" ? `: ${answer.message}` : "";
    // 4xx other than a timeout, a conflict or a rate limit means the request itself is wrong; retrying cannot help.
    const permanent = result.status >= 400 && result.status < 500 && ![408, 409, 429].includes(result.status);
    return {
      kind: "failed",
      attempt,
      error: `Resend responded ${result.status}${detail}`,
      permanent,
      retryAfterMs: parseRetryAfter(result.headers.get("retry-after"), startedAt, ctx.deliverySettings),
    };
  },

  async onSucceeded(tx, ctx, job, data) {
    const email = JSON.parse(job.message.body) as EmailJob;
    const now = ctx.clock.now();
    await tx.insert(outreachEmails).values({
      id: newId("oem"),
      leadId: email.leadId,
      providerEmailId: String(data.emailId),
      toAddress: email.to,
      subject: email.subject,
      status: "SENT",
      sentAt: now,
      createdAt: now,
      updatedAt: now,
    });
  },
};
