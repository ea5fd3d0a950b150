import { type EventSource, type ReceiveOutcome, receiveWebhook, sourceDefinitions } from "@basalt/core";
import { describeDatabaseError, isDatabaseUnavailable } from "@basalt/db";
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { errorResponse, jsonResponse, requestIdOf } from "../http/errors";
import { RateLimitedLog } from "../http/rate-limited-log";
import { readBody } from "../http/read-body";

/** Registers the four provider routes. Each reads the raw body and headers, calls core, and maps the outcome to a response. */
export function webhookRoutes(deps: AppDeps) {
  // Warnings a sender can cause at will are written at most once per interval for each source and kind.
  const rateLimitedLog = new RateLimitedLog(deps.logger);
  const app = new Elysia({ name: "webhooks" });
  for (const definition of Object.values(sourceDefinitions)) {
    app.post(definition.route, ({ request }) => handleWebhook(deps, rateLimitedLog, definition.source, request), {
      parse: "none",
    });
    for (const method of ["GET", "PUT", "PATCH", "DELETE"] as const) {
      app.route(method, definition.route, ({ request }) =>
        errorResponse("method_not_allowed", `${definition.route} accepts POST only.`, requestIdOf(request), {
          allow: "POST",
        }),
      );
    }
  }
  return app;
}

async function handleWebhook(
  deps: AppDeps,
  rateLimitedLog: RateLimitedLog,
  source: EventSource,
  request: Request,
): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdOf(request);
  const log = (outcome: string, fields: Record<string, unknown> = {}) => {
    const seconds = (performance.now() - startedAt) / 1000;
    deps.metrics.webhookRequests.inc({ source, outcome });
    deps.metrics.webhookAckSeconds.observe({ source }, seconds);
    return { request_id: requestId, source, outcome, duration_ms: Math.round(seconds * 1000), ...fields };
  };

  let read: Awaited<ReturnType<typeof readBody>>;
  try {
    read = await readBody(request, deps.maxBodyBytes);
  } catch (error) {
    // The client closed the connection before its body ended, so nothing is stored and no response reaches it.
    rateLimitedLog.warn(
      `${source}:client_aborted`,
      log("client_aborted", { error: error instanceof Error ? error.message : String(error) }),
      "webhook body not received: the client closed the connection",
    );
    return errorResponse("invalid_request", "The request body ended early.", requestId);
  }
  if (!read.ok) {
    rateLimitedLog.warn(
      `${source}:payload_too_large`,
      log("payload_too_large", { declared_bytes: read.declaredBytes }),
      "webhook body too large",
    );
    return errorResponse(
      "payload_too_large",
      `The body exceeds the limit of ${deps.maxBodyBytes} bytes (MAX_BODY_BYTES).`,
      requestId,
    );
  }

  let outcome: ReceiveOutcome;
  try {
    outcome = await receiveWebhook(deps.core, { source, body: read.body, headers: request.headers });
  } catch (error) {
    if (isDatabaseUnavailable(error)) {
      deps.logger.error(log("database_unavailable", { error: describeDatabaseError(error) }), "webhook not stored");
      return errorResponse("database_unavailable", "The event could not be stored; retry later.", requestId);
    }
    deps.logger.error(log("internal_error", { error: describeDatabaseError(error) }), "webhook failed");
    return errorResponse("internal_error", "The event could not be stored because of an internal error.", requestId);
  }

  switch (outcome.kind) {
    case "not_configured":
      rateLimitedLog.warn(
        `${source}:source_not_configured`,
        log("source_not_configured"),
        "webhook rejected: source has no signing secret",
      );
      return errorResponse("source_not_configured", outcome.message, requestId);
    case "unauthorized":
      log(outcome.reason);
      rateLimitedLog.warn(
        `${source}:${outcome.reason}`,
        { request_id: requestId, source, reason: outcome.reason },
        "webhook signature rejected",
      );
      return errorResponse(outcome.reason, outcome.message, requestId);
    case "stored": {
      const fields = { event_id: outcome.eventId, event_type: outcome.eventType, duplicate: outcome.duplicate };
      deps.logger.info(log(outcome.duplicate ? "duplicate" : outcome.status, fields), "webhook received");
      if (outcome.status === "rejected") {
        return errorResponse("invalid_payload", outcome.reason ?? "The event is invalid.", requestId);
      }
      return jsonResponse(
        { received: true, id: outcome.eventId, duplicate: outcome.duplicate, status: outcome.status },
        200,
        requestId,
      );
    }
  }
}
