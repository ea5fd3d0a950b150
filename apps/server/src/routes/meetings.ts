import { bookMeeting, ConflictError, FieldValidationError, ianaTimeZone, NotFoundError } from "@basalt/core";
import { describeDatabaseError, isDatabaseUnavailable, isDataException } from "@basalt/db";
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
  // Postgres text cannot contain NUL, and UTF-8 cannot encode an unpaired surrogate, which the driver
  // would silently replace with U+FFFD.
  title: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((title) => !title.includes("\u0000"), { error: "must not contain NUL characters (\\u0000)" })
    .refine((title) => title.isWellFormed(), { error: "must not contain unpaired UTF-16 surrogates" })
    .optional(),
  durationMinutes: z.number().int().min(5).max(480).optional(),
});

const idempotencyKeyFormat = /^[\x21-\x7e]{1,128}$/;

/** Maximum length of a lead id in the path, the same as for ids in webhook payloads. */
const maxLeadIdLength = 256;

/** Checks the decoded `leadId` path parameter and returns the problem, or null when it is fine. */
function leadIdProblem(leadId: string): string | null {
  if (leadId.includes("\u0000")) {
    return "leadId: must not contain NUL characters (%00).";
  }
  if (leadId.length > maxLeadIdLength) {
    return `leadId: must be at most ${maxLeadIdLength} characters, but it has ${leadId.length}.`;
  }
  return null;
}

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

      // Elysia decodes path parameters with fast-decode-uri-component, which returns null instead of
      // throwing for malformed percent-encoding and for bytes that are not UTF-8.
      const leadId = params.leadId as string | null;
      if (leadId === null) {
        return errorResponse(
          "invalid_request",
          "leadId: the path segment is not valid percent-encoded UTF-8; encode the lead id with encodeURIComponent.",
          requestId,
        );
      }
      const invalidLeadId = leadIdProblem(leadId);
      if (invalidLeadId !== null) {
        return errorResponse("invalid_request", invalidLeadId, requestId);
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
          leadId,
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
          return errorResponse("not_found", `Lead ${leadId} not found.`, requestId);
        }
        if (error instanceof ConflictError) {
          return errorResponse("conflict", error.message, requestId);
        }
        if (error instanceof FieldValidationError) {
          return errorResponse("invalid_request", error.message, requestId);
        }
        // A value that passed the checks above but not Postgres's own is the caller's input, not a fault here.
        if (isDataException(error)) {
          const problem = describeDatabaseError(error);
          deps.logger.warn(
            { request_id: requestId, lead_id: leadId, error: problem },
            "meeting value rejected by Postgres",
          );
          return errorResponse(
            "invalid_request",
            `Postgres rejected a value of the meeting: ${problem}. Correct leadId, datetime or title and send the request again.`,
            requestId,
          );
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
