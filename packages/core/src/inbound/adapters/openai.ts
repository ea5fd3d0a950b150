import { standardWebhookHeaderNames, verifyStandardWebhook } from "../../signatures/standard-webhooks";
import { sourceDefinitions } from "../../sources";
import { bodyKey, type Envelope, idempotencyKey, type SourceAdapter } from "../envelope";
import { decodeJson, isRecord, parsePayload } from "../json";
import {
  openaiCallIncomingEvent,
  openaiCallIncomingType,
  openaiResponseEvent,
  openaiResponseTypes,
} from "../payloads/openai";

const responseTypes: ReadonlySet<string> = new Set(openaiResponseTypes);

export const openaiAdapter: SourceAdapter = {
  definition: sourceDefinitions.openai,

  verify(request, keys, options) {
    return verifyStandardWebhook({
      body: request.body,
      headers: request.headers,
      headerNames: standardWebhookHeaderNames,
      keys,
      now: options.clock.now(),
      toleranceSeconds: options.toleranceSeconds,
    });
  },

  parse(request): Envelope {
    const key = idempotencyKey("webhook", request.headers.get(standardWebhookHeaderNames.id)?.trim() ?? "");
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
        reason: 'The body must be a JSON object with a string "type", such as "response.completed".',
      };
    }
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
      return {
        kind: "invalid",
        eventType: type,
        idempotencyKey: bodyKey(request.body),
        reason: parsed.message,
      };
    }
    return { kind: "handled", eventType: type, idempotencyKey: key, occurredAt: parsed.data.created_at ?? null };
  },
};
