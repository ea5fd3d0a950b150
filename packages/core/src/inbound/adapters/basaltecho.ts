import { verifyHexSignature } from "../../signatures/hex-hmac";
import { sourceDefinitions } from "../../sources";
import {
  bodyKey,
  type Envelope,
  idempotencyKey,
  invalidEnvelope,
  readTypedBody,
  type SourceAdapter,
} from "../envelope";
import { parsePayload } from "../json";
import { callConnectedEvent, callEndedEvent, scheduleMeetingEvent } from "../payloads/basaltecho";

const signatureHeader = "x-basaltecho-signature";

export const basaltechoAdapter: SourceAdapter = {
  definition: sourceDefinitions.basaltecho,

  verify(request, keys) {
    return verifyHexSignature(request.body, request.headers.get(signatureHeader), keys, signatureHeader);
  },

  parse(request): Envelope {
    const read = readTypedBody(request.body, "call_connected");
    if (!read.ok) {
      return read.envelope;
    }
    const { type, value } = read;
    // The page promises duplicate detection by eventId; bodies without one are keyed by their hash.
    const key =
      typeof value.eventId === "string" && value.eventId.trim() !== ""
        ? idempotencyKey("event", value.eventId.trim())
        : bodyKey(request.body);
    const eventType = type === "tool_call" && typeof value.name === "string" ? `tool_call.${value.name}` : type;

    const schema =
      eventType === "tool_call.schedule_meeting"
        ? scheduleMeetingEvent
        : type === "call_connected"
          ? callConnectedEvent
          : type === "call_ended"
            ? callEndedEvent
            : null;
    if (schema === null) {
      const what =
        type !== "tool_call"
          ? `Event type ${type}`
          : typeof value.name === "string"
            ? `Tool ${value.name}`
            : 'A tool_call without a string "name"';
      return {
        kind: "unhandled",
        eventType,
        idempotencyKey: key,
        occurredAt: null,
        reason: `${what} has no side effects here.`,
      };
    }
    const parsed = parsePayload(schema, value);
    if (!parsed.ok) {
      return invalidEnvelope(request.body, eventType, parsed.message);
    }
    return { kind: "handled", eventType, idempotencyKey: key, occurredAt: parsed.data.ts ?? null };
  },
};
