/** The target and timeout of a failed attempt. */
export interface FailedTarget {
  readonly url: URL;
  /** The checked address the connection went to. */
  readonly address: string;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

/**
 * Error codes that mean the TLS handshake or certificate check failed. Bun 1.4 fetch reports EPROTO or an
 * ERR_TLS_* code, and a failed chain check under its X509 error name, such as UNABLE_TO_VERIFY_LEAF_SIGNATURE.
 */
const tlsErrorCode = /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|UNABLE_TO_|SELF_SIGNED/;

/** Describes a failed DNS lookup as an attempt-log message. */
export function describeLookupError(error: unknown, hostname: string, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) {
    return `DNS lookup of ${hostname} timed out after ${timeoutMs} ms.`;
  }
  return `DNS lookup of ${hostname} failed (${summarize(error)}); check that the host name exists.`;
}

/** Describes a failed connection, handshake, request or body read as an attempt-log message. */
export function describeFetchError(error: unknown, target: FailedTarget): string {
  const { url, address, signal, timeoutMs } = target;
  const port = url.port === "" ? "443" : url.port;
  const where = `${url.hostname} (${address} port ${port})`;
  // The signal decides, not the error, because the error after an abort differs by stage (fetch or body stream).
  if (signal.aborted) {
    return `The request to ${where} timed out after ${timeoutMs} ms; the endpoint must respond within that time.`;
  }

  const code = errorCode(error);
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") {
    return `The connection to ${where} was refused; check that the endpoint accepts HTTPS on that port.`;
  }
  if (code !== undefined && tlsErrorCode.test(code)) {
    return `The TLS handshake with ${where} failed (${summarize(error)}); the endpoint must present a valid certificate for ${url.hostname} from a trusted CA.`;
  }
  return `The request to ${where} failed (${summarize(error)}); check that the endpoint is reachable.`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

function summarize(error: unknown): string {
  const code = errorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  return code === undefined || text.startsWith(code) ? text : `${code}: ${text}`;
}
