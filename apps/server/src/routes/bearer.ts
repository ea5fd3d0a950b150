import { timingSafeEqual } from "node:crypto";
import { errorResponse } from "../http/errors";

/**
 * Checks an `Authorization: Bearer` header against the internal API key. Returns an error response, or
 * null when the caller may proceed. Both sides are hashed first, so the comparison takes the same time
 * whatever the length of the guess.
 */
export function checkBearer(request: Request, apiKey: string | undefined, requestId: string): Response | null {
  if (apiKey === undefined) {
    return errorResponse("not_configured", "INTERNAL_API_KEY is not set, so internal routes are disabled.", requestId);
  }
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    return errorResponse("unauthorized", "Send the internal API key as Authorization: Bearer <key>.", requestId, {
      "www-authenticate": "Bearer",
    });
  }
  const hash = (value: string) => new Bun.CryptoHasher("sha256").update(value).digest();
  if (!timingSafeEqual(hash(match[1]), hash(apiKey))) {
    return errorResponse("unauthorized", "The API key is not valid.", requestId, { "www-authenticate": "Bearer" });
  }
  return null;
}
