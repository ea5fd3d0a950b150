import { seedDemoRecords } from "@basalt/core";
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { jsonResponse, requestIdOf } from "../http/errors";
import { checkBearer } from "./bearer";

/**
 * `POST /api/internal/seed` creates demo CRM records. Only the embedded database needs it: PGlite serves
 * one process, so `bun run seed` sends its request to the running server instead of opening the database.
 */
export function internalRoutes(deps: AppDeps) {
  const app = new Elysia({ name: "internal" });
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
