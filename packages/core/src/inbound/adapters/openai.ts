import { standardWebhookHeaderNames } from "../../signatures/standard-webhooks";
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
import {
  openaiCallIncomingEvent,
  openaiCallIncomingType,
  openaiResponseEvent,
  openaiResponseTypes,
} from "../payloads/openai";

const responseTypes: ReadonlySet<string> = new Set(openaiResponseTypes);

export const openaiAdapter: SourceAdapter = {
  definition: sourceDefinitions.openai,

  verify: standardWebhookVerifier(standardWebhookHeaderNames),

  parse(request): Envelope {
    const key = idempotencyKey("webhook", request.headers.get(standardWebhookHeaderNames.id)?.trim() ?? "");
    const read = readTypedBody(request.body, "response.completed");
    if (!read.ok) {
      return read.envelope;
    }
    const { type, value } = read;
    const schema = responseTypes.has(type)
      ? openaiResponseEvent
      : type === openaiCallIncomingType
        ? openaiCallIncomingEvent
        : null;
    if (schema === null) {
      return {
        kind: "unhandled",
        eventType: type,
        idempotencyKey: key,
        occurredAt: null,
        reason: `OpenAI event type ${type} has no side effects here.`,
      };
    }
    const parsed = parsePayload(schema, value);
    if (!parsed.ok) {
      return invalidEnvelope(request.body, type, parsed.message);
    }
    return { kind: "handled", eventType: type, idempotencyKey: key, occurredAt: parsed.data.created_at ?? null };
  },
};
