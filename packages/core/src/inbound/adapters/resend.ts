import { svixHeaderNames, verifyStandardWebhook } from "../../signatures/standard-webhooks";
import { sourceDefinitions } from "../../sources";
import { bodyKey, type Envelope, idempotencyKey, type SourceAdapter } from "../envelope";
import { decodeJson, isRecord, parsePayload } from "../json";
import { resendEmailEvent } from "../payloads/resend";

export const resendAdapter: SourceAdapter = {
  definition: sourceDefinitions.resend,

  verify(request, keys, options) {
    return verifyStandardWebhook({
      body: request.body,
      headers: request.headers,
      headerNames: svixHeaderNames,
      keys,
      now: options.clock.now(),
      toleranceSeconds: options.toleranceSeconds,
    });
  },

  parse(request): Envelope {
    const key = idempotencyKey("svix", request.headers.get(svixHeaderNames.id)?.trim() ?? "");
    const json = decodeJson(request.body);
    if (!json.ok) {
      return { kind: "invalid", eventType: null, idempotencyKey: bodyKey(request.body), reason: json.message };
    }
    const value = json.value;
    const type = isRecord(value) && typeof value.type === "string" ? value.type : null;
    if (type === null) {
      return {
        kind: "invalid",
        eventType: null,
        idempotencyKey: bodyKey(request.body),
        reason: 'The body must be a JSON object with a string "type", such as "email.delivered".',
      };
    }
    if (!type.startsWith("email.")) {
      return {
        kind: "unhandled",
        eventType: type,
        idempotencyKey: key,
        occurredAt: null,
        reason: `Resend event type ${type} is not about an email we sent.`,
      };
    }
    const parsed = parsePayload(resendEmailEvent, value);
    if (!parsed.ok) {
      return {
        kind: "invalid",
        eventType: type,
        idempotencyKey: bodyKey(request.body),
        reason: parsed.message,
      };
    }
    return {
      kind: "handled",
      eventType: type,
      idempotencyKey: key,
      occurredAt: parsed.data.data.created_at ?? parsed.data.created_at ?? null,
    };
  },
};
