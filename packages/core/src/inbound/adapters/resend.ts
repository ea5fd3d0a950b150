import { svixHeaderNames } from "../../signatures/standard-webhooks";
import { sourceDefinitions } from "../../sources";
import {
  type Envelope,
  idempotencyKey,
  invalidEnvelope,
  readTypedBody,
  type SourceAdapter,
  standardWebhookVerifier,
} from "../envelope";
import { parsePayload } from "../json";
import { resendEmailEvent } from "../payloads/resend";

export const resendAdapter: SourceAdapter = {
  definition: sourceDefinitions.resend,

  verify: standardWebhookVerifier(svixHeaderNames),

  parse(request): Envelope {
    const key = idempotencyKey("svix", request.headers.get(svixHeaderNames.id)?.trim() ?? "");
    const read = readTypedBody(request.body, "email.delivered");
    if (!read.ok) {
      return read.envelope;
    }
    const { type, value } = read;
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
      return invalidEnvelope(request.body, type, parsed.message);
    }
    return {
      kind: "handled",
      eventType: type,
      idempotencyKey: key,
      occurredAt: parsed.data.data.created_at ?? parsed.data.created_at ?? null,
    };
  },
};
