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

export type PayloadResult<T> = { ok: true; data: T } | { ok: false; message: string };

/**
 * Validates a decoded body against its schema, then checks every string that the schema kept. Processing
 * writes those strings to Postgres, whose text and jsonb columns reject NUL characters and unpaired
 * UTF-16 surrogates. Fields that the schema does not name are stripped by zod and not checked.
 */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown): PayloadResult<z.output<S>> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, message: formatIssues(parsed.error) };
  }
  const path = findUnstorableText(parsed.data, []);
  if (path !== null) {
    const field = path.length > 0 ? path.join(".") : "body";
    return { ok: false, message: `${field}: must not contain NUL characters or unpaired UTF-16 surrogates` };
  }
  return { ok: true, data: parsed.data };
}

/** Returns the path of the first string that Postgres cannot store as text, or null if there is none. */
function findUnstorableText(value: unknown, path: readonly (string | number)[]): (string | number)[] | null {
  if (typeof value === "string") {
    return value.includes("\u0000") || !value.isWellFormed() ? [...path] : null;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, [...path, index]);
      if (found !== null) {
        return found;
      }
    }
    return null;
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = findUnstorableText(item, [...path, key]);
      if (found !== null) {
        return found;
      }
    }
  }
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
