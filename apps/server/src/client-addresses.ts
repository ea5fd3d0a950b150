import ipaddr from "ipaddr.js";

/**
 * The client address of each request, for per-IP rate limits. Behind a trusted proxy it is the last
 * address of X-Forwarded-For, the one the proxy appended; otherwise the socket's. IPv4-mapped IPv6
 * addresses become plain IPv4, so one client has one key.
 */
export class ClientAddresses {
  readonly #trustProxy: boolean;
  readonly #socketAddresses = new WeakMap<Request, string>();

  constructor(trustProxy: boolean) {
    this.#trustProxy = trustProxy;
  }

  remember(request: Request, socketAddress: string | null): void {
    if (socketAddress !== null) {
      this.#socketAddresses.set(request, socketAddress);
    }
  }

  of(request: Request): string | null {
    const forwarded = this.#trustProxy ? request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim() : undefined;
    return normalize(forwarded ?? this.#socketAddresses.get(request) ?? null);
  }
}

function normalize(address: string | null): string | null {
  if (address === null || !ipaddr.isValid(address)) {
    return null;
  }
  return ipaddr.process(address).toString();
}
