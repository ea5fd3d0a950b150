/**
 * A plain-HTTP server on a loopback address that replaces an integration's API in tests and
 * benchmarks. It records every request and replies with the API's own behavior (a handler). It can be
 * programmed to reply to the next matching requests differently (another status, body or delay).
 *
 *   const server = await startFakeApiServer(() => ({ status: 200, body: { ok: true } }));
 *   server.respondNext({ status: 503, headers: { "retry-after": "5" } });
 *   // The next request gets 503, later ones the handler's reply.
 *   await server.stop();
 */

/** One request as the fake server received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query string, such as `/emails?x=1`. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body decoded as UTF-8, or empty when the request had none. */
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  readonly json: unknown;
}

export interface FakeReply {
  /** Defaults to 200. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A string or bytes are sent as they are. Any other value is sent as JSON with an
   * `application/json` content type, and undefined sends an empty body.
   */
  readonly body?: unknown;
  /** Wait before sending the status line, in milliseconds. */
  readonly delayMs?: number;
}

/** The API's own behavior: builds the reply to a request that no programmed reply took. */
export type FakeHandler = (request: RecordedRequest) => FakeReply;

export type RequestMatcher = (request: RecordedRequest) => boolean;

export interface FakeApiServer {
  /** `http://<address>:<port>`, without a trailing slash: the base URL to configure. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order, recorded before any delay. */
  readonly requests: readonly RecordedRequest[];
  /**
   * Replies to the next requests that `match` accepts (every request by default) with these replies, one
   * per request in order, in place of the API's own behavior. Later calls queue behind earlier ones.
   */
  respondNext(replies: FakeReply | readonly FakeReply[], match?: RequestMatcher): void;
  /** Delays every reply that sets no delay of its own, in milliseconds. Zero turns it off. */
  setDefaultDelay(delayMs: number): void;
  /** Forgets the recorded requests, the queued replies and the default delay. */
  reset(): void;
  /** Stops listening and closes open connections, including replies still being delayed. */
  stop(): Promise<void>;
}

interface QueuedReply {
  readonly reply: FakeReply;
  readonly match: RequestMatcher;
}

const matchAny: RequestMatcher = () => true;

/** Starts a fake API server on 127.0.0.1 (or `hostname`) at a free port. The caller stops it. */
export async function startFakeApiServer(
  handle: FakeHandler,
  options: { hostname?: string } = {},
): Promise<FakeApiServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const requests: RecordedRequest[] = [];
  const queue: QueuedReply[] = [];
  let defaultDelayMs = 0;

  const server = Bun.serve({
    hostname,
    port: 0,
    // No idle timeout, so a programmed delay lasts as long as the test sets.
    idleTimeout: 0,
    async fetch(request) {
      const recorded = await recordRequest(request);
      requests.push(recorded);
      const index = queue.findIndex((queued) => queued.match(recorded));
      const programmed = index === -1 ? undefined : queue.splice(index, 1)[0]?.reply;
      const reply = programmed ?? handle(recorded);
      return respond(reply, defaultDelayMs);
    },
  });

  const port = server.port;
  if (port === undefined) {
    await server.stop(true);
    throw new Error(`Bun.serve on ${hostname} reported no port; the fake API server needs a TCP listener.`);
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    respondNext(replies, match = matchAny) {
      const list: readonly FakeReply[] = Array.isArray(replies) ? replies : [replies as FakeReply];
      for (const reply of list) {
        queue.push({ reply, match });
      }
    },
    setDefaultDelay(delayMs) {
      defaultDelayMs = delayMs;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
      defaultDelayMs = 0;
    },
    async stop() {
      await server.stop(true);
    },
  };
}

async function recordRequest(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  const body = await request.text();
  return {
    method: request.method,
    path: `${url.pathname}${url.search}`,
    headers: Object.fromEntries(request.headers),
    body,
    json: parseJson(body),
  };
}

function parseJson(text: string): unknown {
  if (text === "") {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function respond(reply: FakeReply, defaultDelayMs: number): Promise<Response> {
  const delayMs = reply.delayMs ?? defaultDelayMs;
  if (delayMs > 0) {
    await Bun.sleep(delayMs);
  }
  const headers = new Headers(reply.headers);
  let body: string | Uint8Array<ArrayBuffer> | null = null;
  if (typeof reply.body === "string" || reply.body instanceof Uint8Array) {
    body = reply.body as string | Uint8Array<ArrayBuffer>;
  } else if (reply.body !== undefined) {
    body = JSON.stringify(reply.body);
    if (!headers.has("content-type")) {
      headers.set("content-type", "application/json");
    }
  }
  return new Response(body, { status: reply.status ?? 200, headers });
}

/** Returns the path of a recorded request without its query string. */
export function pathnameOf(request: RecordedRequest): string {
  return request.path.split("?", 1)[0] ?? request.path;
}

/**
 * Reads the first capture group of `pattern` from a request's path, decoded, or returns null when the
 * path does not match: with `/^\/ar\/invoices\/([^/]+)$/`, the path `/ar/invoices/abc` gives "abc".
 */
export function pathParameter(request: RecordedRequest, pattern: RegExp): string | null {
  const value = pattern.exec(pathnameOf(request))?.[1];
  return value === undefined ? null : decodeURIComponent(value);
}

/** Reads the token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(request: RecordedRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) {
    return null;
  }
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

/** Whether a parsed JSON value is a plain object, as request bodies of these APIs must be. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
