import type { EventSource } from "@basalt/db";
import { InvalidInputError } from "../errors";
import { signHex } from "../signatures/hex-hmac";
import { parseWhsecSecret } from "../signatures/secret-format";
import { signStandardWebhook } from "../signatures/standard-webhooks";

/** Event types the trigger command can send, per source. */
export const sampleEventTypes: Readonly<Record<EventSource, readonly string[]>> = {
  surge: ["payment.confirmed", "payment.succeeded", "receipt.status_updated"],
  basaltecho: ["tool_call", "call_connected", "call_ended"],
  resend: [
    "email.sent",
    "email.delivered",
    "email.delivery_delayed",
    "email.opened",
    "email.clicked",
    "email.bounced",
    "email.complained",
  ],
  openai: [
    "response.completed",
    "response.failed",
    "response.cancelled",
    "response.incomplete",
    "realtime.call.incoming",
  ],
};

export interface SampleOptions {
  readonly invoiceId?: string | undefined;
  /** Surge payment id: the receipt id of a receipt event, or the payment id of a payment event. */
  readonly paymentId?: string | undefined;
  readonly amount?: string | undefined;
  readonly currency?: string | undefined;
  readonly leadId?: string | undefined;
  readonly emailId?: string | undefined;
  readonly callId?: string | undefined;
  readonly now: Date;
}

export interface SampleEvent {
  readonly source: EventSource;
  readonly eventType: string;
  readonly body: string;
  /** Headers that belong to the event besides its signature, such as a delivery id. */
  readonly headers: Readonly<Record<string, string>>;
}

const randomId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

/** Builds a sample event in the provider's own format; throws for a type the source does not send. */
export function buildSampleEvent(source: EventSource, eventType: string, options: SampleOptions): SampleEvent {
  if (!sampleEventTypes[source].includes(eventType)) {
    throw new InvalidInputError(
      `Unknown ${source} event type ${eventType}; use one of: ${sampleEventTypes[source].join(", ")}.`,
    );
  }
  const payload = buildPayload(source, eventType, options);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (eventType === "receipt.status_updated") {
    headers["x-portalpay-delivery"] = randomId("dlv");
  }
  return { source, eventType, body: JSON.stringify(payload), headers };
}

function buildPayload(source: EventSource, eventType: string, options: SampleOptions): Record<string, unknown> {
  const nowIso = options.now.toISOString();
  const leadId = options.leadId ?? "lead_demo";
  switch (source) {
    case "surge":
      if (eventType === "receipt.status_updated") {
        return {
          event: eventType,
          receiptId: options.paymentId ?? randomId("pay"),
          status: "paid",
          amount: options.amount ?? "499.00",
          currency: options.currency ?? "USDC",
          transactionHash: `0x${crypto.randomUUID().replaceAll("-", "")}`,
          timestamp: options.now.getTime(),
        };
      }
      return {
        type: eventType,
        created_at: nowIso,
        data: {
          id: options.paymentId ?? randomId("pay"),
          external_id: options.invoiceId ?? "inv_demo",
          amount: options.amount ?? "499.00",
          currency: options.currency ?? "USDC",
          network: "base",
          tx_hash: `0x${crypto.randomUUID().replaceAll("-", "")}`,
        },
      };
    case "basaltecho": {
      const common = { leadId, eventId: randomId("evt"), ts: options.now.getTime() };
      if (eventType === "tool_call") {
        const meetingAt = new Date(options.now.getTime() + 3 * 24 * 3_600_000);
        meetingAt.setUTCMinutes(0, 0, 0);
        return {
          type: "tool_call",
          name: "schedule_meeting",
          ...common,
          args: { datetime: meetingAt.toISOString(), timezone: "America/Denver" },
        };
      }
      if (eventType === "call_ended") {
        return { type: eventType, ...common, callId: options.callId, durationSec: 184 };
      }
      return { type: eventType, ...common, callId: options.callId };
    }
    case "resend":
      return {
        type: eventType,
        created_at: nowIso,
        data: {
          email_id: options.emailId ?? randomId("msg"),
          to: ["john.doe@example.com"],
          subject: "Re: Partnership Opportunity",
          created_at: nowIso,
          ...(eventType === "email.bounced"
            ? { bounce: { type: "Permanent", subType: "General", message: "Mailbox does not exist" } }
            : {}),
          ...(eventType === "email.clicked" ? { click: { link: "https://basaltcrm.com/pricing" } } : {}),
        },
      };
    case "openai":
      if (eventType === "realtime.call.incoming") {
        return {
          object: "event",
          id: randomId("evt"),
          type: eventType,
          created_at: Math.floor(options.now.getTime() / 1000),
          data: {
            call_id: options.callId ?? randomId("rtc"),
            sip_headers: [
              { name: "From", value: '"Caller" <sip:+15550100@sip.example.com>;tag=1' },
              { name: "To", value: "<sip:+15550199@sip.example.com>" },
            ],
          },
        };
      }
      return {
        object: "event",
        id: randomId("evt"),
        type: eventType,
        created_at: Math.floor(options.now.getTime() / 1000),
        data: { id: randomId("resp"), session_id: randomId("sess"), model: "gpt-4o-realtime", duration_ms: 3200 },
      };
  }
}

/**
 * Signs a sample the way its provider does and returns every header to send. For Resend and OpenAI
 * the secret is a `whsec_` secret; for Surge and BasaltECHO it keys a hex HMAC.
 */
export function signSampleEvent(sample: SampleEvent, secret: string, now: Date): Record<string, string> {
  const body = new TextEncoder().encode(sample.body);
  const headers: Record<string, string> = { ...sample.headers };
  switch (sample.source) {
    case "surge":
      if (sample.eventType === "receipt.status_updated") {
        headers["x-basaltsurge-signature"] = `sha256=${signHex(secret, body)}`;
      } else {
        headers["x-surge-signature"] = signHex(secret, body);
      }
      return headers;
    case "basaltecho":
      headers["x-basaltecho-signature"] = signHex(secret, body);
      return headers;
    case "resend":
    case "openai": {
      const parsed = parseWhsecSecret(secret);
      if (!parsed.ok) {
        throw new InvalidInputError(`The ${sample.source} secret ${parsed.message}.`);
      }
      const prefix = sample.source === "resend" ? "svix" : "webhook";
      const id = randomId("msg");
      const timestamp = Math.floor(now.getTime() / 1000);
      headers[`${prefix}-id`] = id;
      headers[`${prefix}-timestamp`] = String(timestamp);
      headers[`${prefix}-signature`] = signStandardWebhook(parsed.key, id, timestamp, body);
      return headers;
    }
  }
}
