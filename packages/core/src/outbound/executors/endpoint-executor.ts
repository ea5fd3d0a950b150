import { signStandardWebhook, standardWebhookHeaderNames } from "../../signatures/standard-webhooks";
import { endpointSigningKeys } from "../endpoints/endpoint-secrets";
import { sendOutbound } from "../http/safe-fetch";
import { checkEndpointUrl } from "../http/url-policy";
import { parseRetryAfter } from "../settings";
import { attemptRecord, type DeliveryExecutor } from "./executor";

const encoder = new TextEncoder();

/**
 * Delivers a CRM event to a customer endpoint, signed with Standard Webhooks headers. The `webhook-id` is
 * the message id, the same on every retry; the timestamp is this attempt's send time; every active
 * secret of the endpoint signs, so a receiver in the middle of a rotation accepts either.
 */
export const endpointExecutor: DeliveryExecutor = {
  async send(ctx, job) {
    const { endpoint, message } = job;
    if (endpoint === null) {
      return { kind: "skipped", reason: "the endpoint no longer exists" };
    }
    if (!endpoint.enabled) {
      return { kind: "cancelled", reason: `endpoint disabled: ${endpoint.disabledReason ?? "by an admin"}` };
    }
    const checked = checkEndpointUrl(endpoint.url, { allowLoopback: ctx.http.allowLoopback });
    if (!checked.ok) {
      return { kind: "failed", attempt: null, error: checked.message, permanent: true };
    }
    if (ctx.cipher === null) {
      return {
        kind: "failed",
        attempt: null,
        error: "SECRETS_ENCRYPTION_KEY is not set, so the endpoint's signing secret cannot be read",
      };
    }
    const keys = await endpointSigningKeys(ctx.db, ctx.cipher, endpoint.id, ctx.clock.now());
    if (keys.length === 0) {
      return {
        kind: "failed",
        attempt: null,
        error: `endpoint ${endpoint.id} has no signing secret; rotate its secret`,
      };
    }

    const startedAt = ctx.clock.now();
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const body = encoder.encode(message.body);
    const signature = keys.map((key) => signStandardWebhook(key, message.id, timestamp, body)).join(" ");
    const result = await sendOutbound(
      {
        url: checked.url.toString(),
        headers: {
          "content-type": "application/json",
          "user-agent": "BasaltWebhooks/1.0",
          [standardWebhookHeaderNames.id]: message.id,
          [standardWebhookHeaderNames.timestamp]: String(timestamp),
          [standardWebhookHeaderNames.signature]: signature,
        },
        body,
      },
      ctx.http,
    );

    const attempt = attemptRecord(startedAt, result);
    if (result.kind !== "response") {
      return { kind: "failed", attempt, error: result.message };
    }
    if (result.status >= 200 && result.status < 300) {
      return { kind: "succeeded", attempt };
    }
    if (result.status === 410) {
      return {
        kind: "failed",
        attempt,
        error: "the endpoint responded 410 Gone",
        permanent: true,
        disableEndpoint: "the endpoint responded 410 Gone",
      };
    }
    if (result.status >= 300 && result.status < 400) {
      const location = result.headers.get("location") ?? "(no Location header)";
      return {
        kind: "failed",
        attempt,
        error: `the endpoint responded ${result.status} redirecting to ${location}; redirects are not followed, so save the final URL`,
      };
    }
    return {
      kind: "failed",
      attempt,
      error: `the endpoint responded ${result.status}`,
      retryAfterMs: parseRetryAfter(result.headers.get("retry-after"), startedAt, ctx.deliverySettings),
    };
  },
};
