import { readBodyPrefix } from "../http/safe-fetch";
import type { OutboundResult } from "../http/types";

/**
 * Sends a request to an integration's API. Its base URL comes from the operator's configuration, so
 * unlike a customer endpoint it is trusted and may be plain HTTP (a local test server). Never throws.
 * The result's `bodyPrefix` contains the first `maxBodyBytes` of the body, 4 KiB (the size of the
 * attempt log) unless set. A caller that parses a larger JSON body sets a larger limit.
 */
export async function sendIntegrationRequest(
  url: string,
  init: { method: "GET" | "POST"; headers: Record<string, string>; body?: unknown; maxBodyBytes?: number },
  timeoutMs: number,
): Promise<OutboundResult> {
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: init.body === undefined ? init.headers : { "content-type": "application/json", ...init.headers },
      body: init.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(init.body)),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const bodyPrefix = await readBodyPrefix(response, init.maxBodyBytes);
    return { kind: "response", status: response.status, headers: response.headers, bodyPrefix, durationMs: elapsed() };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { kind: "network_error", message, durationMs: elapsed() };
  }
}

/** Reads a JSON response body prefix, or null when it is not JSON. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
