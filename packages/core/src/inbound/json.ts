import type { z } from "zod";

export type JsonResult = { ok: true; value: unknown } | { ok: false; message: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes a body as UTF-8 JSON. A leading byte order mark is skipped, as the decoder does by default. */
export function decodeJson(body: Uint8Array): JsonResult {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, message: "The body is not valid UTF-8; send a UTF-8 encoded JSON object." };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, message: "The body is not valid JSON; send a JSON object." };
  }
}

/** Formats validation issues as one line naming each field: `data.id: expected string`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join(".") : "body";
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
