import { FieldValidationError, NotFoundError, RateLimitedError, submitForm, utmParameters } from "@basalt/core";
import { describeDatabaseError, isDatabaseUnavailable } from "@basalt/db";
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { errorResponse, jsonResponse, requestIdOf } from "../http/errors";
import { readBody } from "../http/read-body";

/** Name of the hidden field that people leave empty and form-filling bots do not. */
export const honeypotField = "_gotcha";

/** Largest form submission body accepted. */
const maxSubmissionBytes = 64 * 1024;

/**
 * Public forms are embedded on customers' sites, so any origin may post; no credentials are involved.
 * Browsers hide response headers outside the CORS safelist from scripts unless they are exposed.
 */
const corsHeaders = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "content-type",
  "access-control-expose-headers": "retry-after, x-request-id",
  "access-control-max-age": "86400",
};

/** `POST /api/forms/:slug/submissions`: the public submission route of BasaltCRM forms, JSON or form-encoded. */
export function formRoutes(deps: AppDeps) {
  return new Elysia({ name: "forms" })
    .options("/api/forms/:slug/submissions", () => new Response(null, { status: 204, headers: corsHeaders }))
    .post(
      "/api/forms/:slug/submissions",
      // Elysia sets a parameter with invalid percent-encoding to null, although its type is string.
      async ({ request, params }) => withCors(await handleSubmission(deps, request, params.slug ?? "")),
      { parse: "none" },
    );
}

async function handleSubmission(deps: AppDeps, request: Request, slug: string): Promise<Response> {
  const requestId = requestIdOf(request);
  const count = (outcome: string) => deps.metrics.formSubmissions.inc({ outcome });

  const read = await readBody(request, maxSubmissionBytes);
  if (!read.ok) {
    return errorResponse("payload_too_large", `The submission exceeds ${maxSubmissionBytes} bytes.`, requestId);
  }
  const fields = parseFields(request.headers.get("content-type"), read.body);
  if (fields === null) {
    return errorResponse(
      "invalid_request",
      "Send the fields as a JSON object or as application/x-www-form-urlencoded.",
      requestId,
    );
  }
  if ((fields[honeypotField] ?? "") !== "") {
    count("spam");
    deps.logger.info({ request_id: requestId, form: slug }, "form submission dropped: honeypot field filled");
    return jsonResponse({ received: true }, 201, requestId);
  }

  // An empty UTM value in the body falls back to the query string. Core trims, checks and shortens them.
  const query = new URL(request.url).searchParams;
  const utm: Record<string, string> = {};
  for (const name of utmParameters) {
    const value = fields[`utm_${name}`]?.trim() || query.get(`utm_${name}`);
    if (value) {
      utm[name] = value;
    }
  }
  const values = Object.fromEntries(
    Object.entries(fields).filter(([name]) => name !== honeypotField && !name.startsWith("utm_")),
  );

  try {
    const result = await submitForm(deps.core, {
      slug,
      values,
      utm,
      ipAddress: deps.clientAddress(request),
      userAgent: request.headers.get("user-agent"),
      rateLimit: deps.formRateLimit,
    });
    count("accepted");
    return jsonResponse({ received: true, submission_id: result.submissionId }, 201, requestId);
  } catch (error) {
    if (error instanceof FieldValidationError) {
      count("invalid");
      return new Response(
        JSON.stringify({
          error: { code: "invalid_request", message: error.message, requestId, fields: error.fieldErrors },
        }),
        { status: 400, headers: { "content-type": "application/json", "x-request-id": requestId } },
      );
    }
    if (error instanceof RateLimitedError) {
      count("rate_limited");
      return errorResponse("rate_limited", error.message, requestId, {
        "retry-after": String(error.retryAfterSeconds),
      });
    }
    if (error instanceof NotFoundError) {
      count("not_found");
      return errorResponse("not_found", `Form ${slug} not found, or it is not accepting submissions.`, requestId);
    }
    if (isDatabaseUnavailable(error)) {
      deps.logger.error({ request_id: requestId, error: describeDatabaseError(error) }, "form submission not stored");
      return errorResponse("database_unavailable", "The submission could not be stored; retry later.", requestId);
    }
    throw error;
  }
}

/** Reads a JSON object or a form-encoded body into field values; null when it is neither. */
function parseFields(contentType: string | null, body: Uint8Array): Record<string, string> | null {
  const text = new TextDecoder().decode(body);
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return null;
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (Array.isArray(value)) {
      fields[name] = value.flatMap((item) => textOf(item) ?? []).join(", ");
      continue;
    }
    const text = textOf(value);
    if (text !== null) {
      fields[name] = text;
    }
  }
  return fields;
}

/**
 * Converts a JSON value to a field value, or to null when it carries none. `false` is an unticked checkbox,
 * which a form-encoded body omits, so it carries no value, and neither do null, objects and nested arrays.
 */
function textOf(value: unknown): string | null {
  if (typeof value === "string" || typeof value === "number" || value === true) {
    return String(value);
  }
  return null;
}

function withCors(response: Response): Response {
  for (const [name, value] of Object.entries(corsHeaders)) {
    response.headers.set(name, value);
  }
  return response;
}
