/**
 * A local HTTPS webhook receiver for tests. It serves the fixture certificate (names localhost and
 * receiver.test, addresses 127.0.0.1 and ::1), records every request and replies as programmed.
 *
 *   const receiver = await startHttpsReceiver();
 *   receiver.reply({ status: 500, body: "down" });
 *   await sendOutbound({ url: receiver.url, ... }, { allowLoopback: true, extraCaPem: receiverCaPem, timeoutMs: 5_000 });
 *   expect(receiver.requests).toHaveLength(1);
 *   await receiver.stop();
 */

const tlsFixtures = `${import.meta.dir}/../fixtures/tls`;

/** The test CA that signed the receiver's certificate, to pass as `extraCaPem`. */
export const receiverCaPem = await Bun.file(`${tlsFixtures}/ca-cert.pem`).text();

const certificatePem = await Bun.file(`${tlsFixtures}/receiver-cert.pem`).text();
const privateKeyPem = await Bun.file(`${tlsFixtures}/receiver-key.pem`).text();

/** One request as the receiver got it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query string, such as `/hooks?tenant=1`. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body bytes. */
  readonly body: Uint8Array;
}

export interface ReceiverReply {
  /** Defaults to 200. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Defaults to "ok". A function builds a fresh stream per request, for slow or endless bodies. */
  readonly body?: string | Uint8Array<ArrayBuffer> | (() => ReadableStream<Uint8Array>);
  /** Wait before sending the status line, in milliseconds. */
  readonly delayMs?: number;
}

export type ReplyRule = ReceiverReply | ((request: ReceivedRequest) => ReceiverReply);

export interface HttpsReceiverOptions {
  /** Listening address, 127.0.0.1 by default. Linux accepts any address in 127.0.0.0/8, and ::1 where IPv6 is on. */
  readonly hostname?: string;
  /** Listening port, 0 (a free port) by default. Pass another receiver's port to share it on a second address. */
  readonly port?: number;
  readonly reply?: ReplyRule;
}

export interface HttpsReceiver {
  /** `https://<address>:<port>`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order, recorded before the reply's delay. */
  readonly requests: readonly ReceivedRequest[];
  /** Sets the reply to the requests that follow. */
  reply(rule: ReplyRule): void;
  /** Stops listening and closes open connections, including replies still being delayed or streamed. */
  stop(): Promise<void>;
}

/** Starts a receiver. The caller stops it when the test ends. */
export async function startHttpsReceiver(options: HttpsReceiverOptions = {}): Promise<HttpsReceiver> {
  const hostname = options.hostname ?? "127.0.0.1";
  const requests: ReceivedRequest[] = [];
  let rule: ReplyRule = options.reply ?? {};

  const server = Bun.serve({
    hostname,
    port: options.port ?? 0,
    tls: { cert: certificatePem, key: privateKeyPem },
    // No idle timeout, so a programmed delay or a slow body lasts as long as the test sets.
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const received: ReceivedRequest = {
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers: Object.fromEntries(request.headers),
        body: new Uint8Array(await request.arrayBuffer()),
      };
      requests.push(received);
      return await respond(typeof rule === "function" ? rule(received) : rule);
    },
  });

  const port = server.port;
  if (port === undefined) {
    await server.stop(true);
    throw new Error(`Bun.serve on ${hostname} reported no port; the receiver needs a TCP listener.`);
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `https://${host}:${port}`,
    port,
    requests,
    reply(next) {
      rule = next;
    },
    async stop() {
      await server.stop(true);
    },
  };
}

async function respond(reply: ReceiverReply): Promise<Response> {
  if (reply.delayMs !== undefined) {
    await Bun.sleep(reply.delayMs);
  }
  const body = typeof reply.body === "function" ? reply.body() : (reply.body ?? "ok");
  return new Response(body, { status: reply.status ?? 200, headers: reply.headers ?? {} });
}
