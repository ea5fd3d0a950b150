import { bookMeeting, ConflictError, ianaTimeZone, NotFoundError } from "@basalt/core";
import { isDatabaseUnavailable } from "@basalt/db";
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppDeps } from "../deps";
import { errorResponse, jsonResponse, requestIdOf } from "../http/errors";
import { readBody } from "../http/read-body";
import { checkBearer } from "./bearer";

const meetingRequest = z.object({
  datetime: z.iso.datetime({
    offset: true,
    error: "must be an ISO 8601 time with Z or a UTC offset, such as 2026-03-01T15:00:00Z",
  }),
  timezone: ianaTimeZone,
  title: z.string().trim().min(1).max(200).optional(),
  durationMinutes: z.number().int().min(5).max(480).optional(),
});

const idempotencyKeyFormat = /^[\x21-\x7e]{1,128}$/;

/** `POST /api/outreach/meeting/:leadId`: books a meeting for internal callers with the bearer API key. */
export function meetingRoutes(deps: AppDeps) {
  return new Elysia({ name: "meetings" }).post(
    "/api/outreach/meeting/:leadId",
    async ({ request, params }) => {
      const requestId = requestIdOf(request);
      const denied = checkBearer(request, deps.internalApiKey, requestId);
      if (denied) {
        return denied;
      }

      const read = await readBody(request, 64 * 1024);
      if (!read.ok) {
        return errorResponse("payload_too_large", "The body exceeds 64 KiB.", requestId);
      }
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(read.body));
      } catch {
        return errorResponse(
          "invalid_request",
          "The body must be a JSON object with datetime and timezone.",
          requestId,
        );
      }
      const parsed = meetingRequest.safeParse(json);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
        return errorResponse("invalid_request", fields.join("; "), requestId);
      }
      const idempotencyKey = request.headers.get("idempotency-key");
      if (idempotencyKey !== null && !idempotencyKeyFormat.test(idempotencyKey)) {
        return errorResponse(
          "invalid_request",
          "Idempotency-Key must be 1 to 128 printable ASCII characters.",
          requestId,
        );
      }

      try {
        const result = await bookMeeting(deps.core, {
          leadId: params.leadId,
          startsAt: new Date(parsed.data.datetime),
          timezone: parsed.data.timezone,
          title: parsed.data.title,
          durationMinutes: parsed.data.durationMinutes,
          idempotencyKey: idempotencyKey === null ? undefined : `api:${idempotencyKey}`,
        });
        return jsonResponse(
          { meeting: result.meeting, created: result.created },
          result.created ? 201 : 200,
          requestId,
        );
      } catch (error) {
        if (error instanceof NotFoundError) {
          return errorResponse("not_found", `Lead ${params.leadId} not found.`, requestId);
        }
        if (error instanceof ConflictError) {
          return errorResponse("conflict", error.message, requestId);
        }
        if (isDatabaseUnavailable(error)) {
          return errorResponse("database_unavailable", "The meeting could not be stored; retry later.", requestId);
        }
        throw error;
      }
    },
    { parse: "none" },
  );
}
