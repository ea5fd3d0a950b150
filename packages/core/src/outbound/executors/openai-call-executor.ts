import { incomingCalls } from "@basalt/db";
import { eq } from "drizzle-orm";
import type { CallAnswerJob } from "../../effects/openai/route-incoming-call";
import { callAnswerRetryDelaysMs } from "../settings";
import { attemptRecord, type DeliveryExecutor } from "./executor";
import { sendIntegrationRequest } from "./integration-request";

/**
 * Answers an incoming SIP call through the OpenAI Realtime API: accept with the route's session settings,
 * or reject with a SIP status. A caller hangs up within seconds, so the job retries twice, quickly.
 */
export const openaiCallExecutor: DeliveryExecutor = {
  retryDelaysMs: callAnswerRetryDelaysMs,

  async send(ctx, job) {
    const { apiUrl, apiKey } = ctx.integrations.openai;
    const call = JSON.parse(job.message.body) as CallAnswerJob;
    if (!apiKey) {
      return { kind: "skipped", reason: "OPENAI_API_KEY is not set, so incoming calls are not answered" };
    }
    // `type` goes last: the accept endpoint takes realtime sessions only, so a route's own `type` cannot replace it.
    const body =
      call.action === "accept"
        ? { ...(call.sessionSettings ?? {}), type: "realtime" }
        : { status_code: call.rejectStatusCode ?? 603 };

    const startedAt = ctx.clock.now();
    const result = await sendIntegrationRequest(
      `${apiUrl}/realtime/calls/${encodeURIComponent(call.callId)}/${call.action}`,
      { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body },
      ctx.http.timeoutMs,
    );
    const attempt = attemptRecord(startedAt, result);
    if (result.kind !== "response") {
      return { kind: "failed", attempt, error: `OpenAI request failed: ${result.message}` };
    }
    if (result.status >= 200 && result.status < 300) {
      return { kind: "succeeded", attempt, reason: `call ${call.action === "accept" ? "accepted" : "rejected"}` };
    }
    // The call is gone or the request is wrong: 4xx cannot succeed on a retry, except a rate limit.
    const permanent = result.status >= 400 && result.status < 500 && result.status !== 429;
    return { kind: "failed", attempt, error: `OpenAI responded ${result.status} to the ${call.action}`, permanent };
  },

  async onSucceeded(tx, _ctx, job) {
    const call = JSON.parse(job.message.body) as CallAnswerJob;
    await tx.update(incomingCalls).set({ answerStatus: "answered" }).where(eq(incomingCalls.id, call.incomingCallId));
  },

  async onGaveUp(tx, _ctx, job, status) {
    const call = JSON.parse(job.message.body) as CallAnswerJob;
    await tx
      .update(incomingCalls)
      .set({ answerStatus: status === "skipped" ? "skipped" : "failed" })
      .where(eq(incomingCalls.id, call.incomingCallId));
  },
};
