/** Every error code the HTTP API responds with, and its status. */
export const errorStatus = {
  payload_too_large: 413,
  source_not_configured: 503,
  missing_signature: 401,
  invalid_signature: 401,
  timestamp_out_of_tolerance: 401,
  invalid_payload: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  rate_limited: 429,
  not_configured: 503,
  database_unavailable: 503,
  internal_error: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;

/** Seconds a client is asked to wait before retrying a 503. */
const retryAfterSeconds = "30";

/** Builds the error envelope `{"error":{"code","message","requestId"}}` with its status. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): Response {
  const status = errorStatus[code];
  return new Response(JSON.stringify({ error: { code, message, requestId } }), {
    status,
    headers: {
      "content-type": "application/json",
      "x-request-id": requestId,
      ...(status === 503 ? { "retry-after": retryAfterSeconds } : {}),
      ...headers,
    },
  });
}

export function jsonResponse(body: unknown, status: number, requestId: string): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-request-id": requestId },
  });
}

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/** Uses the caller's X-Request-Id when it is a short plain token, else makes one. */
export function requestIdOf(request: Request): string {
  const header = request.headers.get("x-request-id");
  return header !== null && acceptableRequestId.test(header)
    ? header
    : `req_${crypto.randomUUID().replaceAll("-", "")}`;
}
