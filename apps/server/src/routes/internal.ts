import { getEventSummary, NotFoundError, seedDemoRecords } from "@basalt/core";
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { errorResponse, jsonResponse, requestIdOf } from "../http/errors";
import { checkBearer } from "./bearer";

/**
 * Routes for internal callers with the bearer API key. `GET /api/internal/events/:id` reports an event's
 * processing state, which `bun run trigger` waits for. `POST /api/internal/seed` creates demo CRM
 * records on the embedded database only: PGlite serves one process, so `bun run seed` sends its request
 * to the running server instead of opening the database.
 */
export function internalRoutes(deps: AppDeps) {
  const app = new Elysia({ name: "internal" }).get("/api/internal/events/:id", async ({ request, params }) => {
    const requestId = requestIdOf(request);
    const denied = checkBearer(request, deps.internalApiKey, requestId);
    if (denied) {
      return denied;
    }
    try {
      const event = await getEventSummary(deps.core, params.id);
      return jsonResponse(
        {
          id: event.id,
          source: event.source,
          event_type: event.eventType,
          status: event.status,
          status_reason: event.statusReason,
          attempts: event.attempts,
          last_error: event.lastError,
          received_at: event.receivedAt,
          processed_at: event.processedAt,
          next_attempt_at: event.nextAttemptAt,
        },
        200,
        requestId,
      );
    } catch (error) {
      if (error instanceof NotFoundError) {
        return errorResponse("not_found", `Event ${params.id} not found.`, requestId);
      }
      throw error;
    }
  });
  if (!deps.enableDemoSeed) {
    return app;
  }
  return app.post(
    "/api/internal/seed",
    async ({ request }) => {
      const requestId = requestIdOf(request);
      const denied = checkBearer(request, deps.internalApiKey, requestId);
      if (denied) {
        return denied;
      }
      const records = await seedDemoRecords(deps.core.db);
      deps.logger.info(
        { request_id: requestId, lead_id: records.leadId, invoice_id: records.invoiceId },
        "demo records seeded",
      );
      return jsonResponse(records, 201, requestId);
    },
    { parse: "none" },
  );
}
