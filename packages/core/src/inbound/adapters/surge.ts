import { verifyHexSignature } from "../../signatures/hex-hmac";
import type { VerificationResult } from "../../signatures/result";
import { sourceDefinitions } from "../../sources";
import { bodyKey, type Envelope, idempotencyKey, invalidEnvelope, type SourceAdapter, typedBody } from "../envelope";
import { decodeJson, isRecord, parsePayload } from "../json";
import { surgePaymentEvent, surgePaymentTypes, surgeReceiptEvent, surgeReceiptType } from "../payloads/surge";

/** Signature headers in order of preference: the developer page's, then BasaltSURGE's receipts webhook. */
const signatureHeaders = ["x-surge-signature", "x-basaltsurge-signature", "x-portalpay-signature"] as const;
const paymentTypes: ReadonlySet<string> = new Set(surgePaymentTypes);

export const surgeAdapter: SourceAdapter = {
  definition: sourceDefinitions.surge,

  verify(request, keys): VerificationResult {
    const present = signatureHeaders.filter((name) => request.headers.get(name) !== null);
    if (present.length === 0) {
      return verifyHexSignature(request.body, null, keys, "X-Surge-Signature");
    }
    let first: VerificationResult | undefined;
    for (const name of present) {
      const result = verifyHexSignature(request.body, request.headers.get(name), keys, name);
      if (result.ok) {
        return result;
      }
      first ??= result;
    }
    return first as VerificationResult;
  },

  parse(request): Envelope {
    const json = decodeJson(request.body);
    if (!json.ok) {
      return invalidEnvelope(request.body, null, json.message);
    }
    if (isRecord(json.value) && json.value.event === surgeReceiptType) {
      return parseReceipt(request, json.value);
    }
    const read = typedBody(request.body, json.value, "payment.confirmed");
    if (!read.ok) {
      return read.envelope;
    }
    const { type, value } = read;
    if (!paymentTypes.has(type)) {
      const data = value.data;
      const id = isRecord(data) && typeof data.id === "string" && data.id !== "" ? data.id : null;
      return {
        kind: "unhandled",
        eventType: type,
        idempotencyKey: id === null ? bodyKey(request.body) : idempotencyKey(`event:${type}`, id),
        occurredAt: null,
        reason: `Surge event type ${type} has no side effects here.`,
      };
    }

    const parsed = parsePayload(surgePaymentEvent, value);
    if (!parsed.ok) {
      return invalidEnvelope(request.body, type, parsed.message);
    }
    // payment.succeeded is an alias of payment.confirmed: both share one key per payment.
    return {
      kind: "handled",
      eventType: type,
      idempotencyKey: idempotencyKey("payment", parsed.data.data.id),
      occurredAt: parsed.data.created_at ?? null,
    };
  },
};

function parseReceipt(request: { body: Uint8Array }, value: Record<string, unknown>): Envelope {
  const parsed = parsePayload(surgeReceiptEvent, value);
  if (!parsed.ok) {
    return invalidEnvelope(request.body, surgeReceiptType, parsed.message);
  }
  const receipt = parsed.data;
  return {
    kind: "handled",
    eventType: surgeReceiptType,
    // From the signed body only: the X-PortalPay-Delivery header is not signed, so a key taken from it
    // would let a captured request be replayed as a new event under a fresh header value.
    idempotencyKey: idempotencyKey("receipt", `${receipt.receiptId}:${receipt.status}`),
    occurredAt: receipt.updatedAt ?? receipt.timestamp ?? null,
  };
}
