/** Resolves a host name to every IPv4 and IPv6 address it has. */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface OutboundHttpOptions {
  /** Replaces DNS resolution, for tests; the default queries the system resolver for every address. */
  readonly resolve?: Resolver;
  /**
   * Allows loopback targets: 127.0.0.0/8, ::1, their IPv4-mapped forms, and the names localhost and
   * *.localhost. A development and test setting, off by default; private and other ranges stay blocked.
   */
  readonly allowLoopback: boolean;
  /** An extra CA certificate (PEM) trusted next to the system's, for local HTTPS receivers in tests. */
  readonly extraCaPem?: string | undefined;
  /** Time allowed for one attempt, from connecting to the end of the response body. */
  readonly timeoutMs: number;
}

export interface OutboundRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as bytes, so Content-Length is the UTF-8 length. */
  readonly body: Uint8Array;
}

/** How one HTTP attempt ended. Never thrown: every outcome is a value. */
export type OutboundResult =
  | {
      kind: "response";
      status: number;
      headers: Headers;
      /** The first 4 KiB of the response body, decoded as UTF-8 with replacement characters. */
      bodyPrefix: string;
      durationMs: number;
    }
  /** The URL or its resolved addresses are not allowed; nothing was sent. */
  | { kind: "blocked"; message: string; durationMs: number }
  /** DNS, connection, TLS or protocol failure, or the timeout. */
  | { kind: "network_error"; message: string; durationMs: number };
