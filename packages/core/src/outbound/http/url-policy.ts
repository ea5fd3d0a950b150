import { IPv4, IPv6, parse, parseCIDR } from "ipaddr.js";

/** Maximum length of an endpoint URL in characters, checked before parsing. */
export const maxEndpointUrlLength = 2048;

export interface TargetPolicyOptions {
  /** Whether 127.0.0.0/8, ::1 and the `localhost` names pass, for development and tests only. */
  readonly allowLoopback: boolean;
}

export type EndpointUrlCheck = { ok: true; url: URL } | { ok: false; message: string };

/** On success, `address` is the canonical spelling of the checked address, which is the one to connect to. */
export type AddressCheck = { ok: true; address: string } | { ok: false; message: string };

const dottedDecimal = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Names that resolve to the machine itself or to a private network by convention, whatever DNS returns. */
const loopbackNames = ["localhost"];
const privateNameSuffixes = [".internal", ".local", ".home.arpa"];

/**
 * IANA's global unicast block. ipaddr.js calls every IPv6 address outside its named ranges `unicast`,
 * including unassigned space such as 4000::/3, so a public IPv6 target must also be inside this block.
 */
const ipv6GlobalUnicast = parseCIDR("2000::/3");

const rangeNames: Readonly<Record<string, string>> = {
  linkLocal: "link-local",
  carrierGradeNat: "carrier-grade NAT",
  uniqueLocal: "unique-local",
  rfc6145: "IPv4-translated",
  rfc6052: "NAT64",
  teredo: "Teredo",
  as112: "AS112 DNS",
  as112v6: "AS112 DNS",
  amt: "AMT relay",
  deprecatedSiteLocal: "site-local",
  deprecatedOrchid: "ORCHID",
  orchid2: "ORCHID",
  droneRemoteIdProtocolEntityTags: "drone remote ID",
  segmentRouting: "segment routing",
};

/**
 * Checks an endpoint URL when it is saved and again before each send: an absolute `https:` URL of at
 * most 2048 characters, without credentials, whose host is neither a local name nor a literal address
 * in a blocked range. Host names are resolved and checked only when sending. Never throws.
 */
export function checkEndpointUrl(value: string, options: TargetPolicyOptions): EndpointUrlCheck {
  if (value.length > maxEndpointUrlLength) {
    return {
      ok: false,
      message: `The URL is ${value.length} characters long; the maximum is ${maxEndpointUrlLength}.`,
    };
  }
  if (!URL.canParse(value)) {
    return { ok: false, message: "The URL is not valid; enter an absolute URL such as https://example.com/webhooks." };
  }
  const url = new URL(value);

  if (url.protocol !== "https:") {
    return {
      ok: false,
      message: `The URL uses ${url.protocol} but webhook endpoints require HTTPS; use an https:// URL.`,
    };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      ok: false,
      message:
        "The URL contains a user name or password; remove them, because receivers authenticate webhooks by their signature.",
    };
  }
  if (url.hostname === "") {
    return { ok: false, message: "The URL has no host; enter an absolute URL such as https://example.com/webhooks." };
  }

  const hostCheck = checkHost(url, options);
  return hostCheck.ok ? { ok: true, url } : hostCheck;
}

/**
 * Returns the IP address of a URL whose host is a literal address, without brackets, or null for a host
 * name. The WHATWG URL parser already rewrites decimal, hex, octal and short IPv4 spellings into dotted
 * decimal, and keeps IPv6 hosts in brackets.
 */
export function literalAddressOf(url: URL): string | null {
  const host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) {
    return host.slice(1, -1);
  }
  // The parser has already refused a host that ends in a number but is no valid IPv4 address.
  return dottedDecimal.test(host) ? host : null;
}

/**
 * Checks one IP address as a webhook target. Only the `unicast` range of ipaddr.js passes, and for IPv6
 * only inside 2000::/3, so private, link-local, carrier-grade NAT, multicast, broadcast, documentation,
 * reserved, unspecified, unique-local, NAT64, 6to4 and Teredo addresses fail. Loopback passes only with
 * `allowLoopback`. IPv4-mapped and IPv4-compatible IPv6 addresses are judged by their IPv4 address.
 */
export function checkAddress(address: string, options: TargetPolicyOptions): AddressCheck {
  const verdicts = options.allowLoopback ? verdictsWithLoopback : verdictsWithoutLoopback;
  const known = verdicts.get(address);
  if (known !== undefined) {
    return known;
  }
  const verdict = judgeAddress(address, options);
  if (verdicts.size >= maxKnownVerdicts) {
    verdicts.clear();
  }
  verdicts.set(address, verdict);
  return verdict;
}

/**
 * Verdicts already reached, by address. An address's range never changes, and a send checks its
 * address several times, so each is parsed once. The maps are emptied when full, to bound them.
 */
const verdictsWithLoopback = new Map<string, AddressCheck>();
const verdictsWithoutLoopback = new Map<string, AddressCheck>();
const maxKnownVerdicts = 10_000;

function judgeAddress(address: string, options: TargetPolicyOptions): AddressCheck {
  let parsed: IPv4 | IPv6;
  try {
    parsed = parse(address);
  } catch {
    return { ok: false, message: `"${address}" is not an IP address.` };
  }

  if (parsed instanceof IPv6 && parsed.zoneId !== undefined && parsed.zoneId !== "") {
    return {
      ok: false,
      message: `The address ${address} has a zone index, but webhooks go only to global addresses, which need none.`,
    };
  }

  const embedded = parsed instanceof IPv6 ? embeddedIPv4(parsed) : null;
  const judged = embedded ?? parsed;
  const range = rangeOf(judged);
  if (range === "unicast" || (range === "loopback" && options.allowLoopback)) {
    return { ok: true, address: parsed.toString() };
  }

  const addressText = embedded === null ? address : `${address} (IPv4 ${embedded.toString()})`;
  return {
    ok: false,
    message: `The address ${addressText} is in the ${rangeNames[range] ?? range} range, which webhooks may not reach; use an endpoint with a public address.`,
  };
}

function checkHost(url: URL, options: TargetPolicyOptions): { ok: true } | { ok: false; message: string } {
  const address = literalAddressOf(url);
  if (address !== null) {
    const addressCheck = checkAddress(address, options);
    return addressCheck.ok ? { ok: true } : addressCheck;
  }

  // A trailing dot makes a name fully qualified without changing what it names, so `localhost.` is `localhost`.
  const name = url.hostname.replace(/\.+$/, "");
  const isLoopbackName = loopbackNames.some((loopback) => name === loopback || name.endsWith(`.${loopback}`));
  if (isLoopbackName && !options.allowLoopback) {
    return {
      ok: false,
      message: `The host ${url.hostname} names this machine, which webhooks may not reach; use a public host name.`,
    };
  }
  if (privateNameSuffixes.some((suffix) => name.endsWith(suffix))) {
    return {
      ok: false,
      message: `The host ${url.hostname} is a private network name, which webhooks may not reach; use a public host name.`,
    };
  }
  return { ok: true };
}

/**
 * Returns the IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or IPv4-compatible (::/96) IPv6
 * address, or null. A dual-stack socket sends a mapped address to the IPv4 host, so judging only the
 * IPv6 form would let ::ffff:127.0.0.1 through. The compatible form is deprecated (RFC 4291) but
 * judged the same way. :: and ::1 keep their IPv6 meaning, unspecified and loopback.
 */
function embeddedIPv4(address: IPv6): IPv4 | null {
  if (address.isIPv4MappedAddress()) {
    return address.toIPv4Address();
  }
  const [high = 0, low = 0] = address.parts.slice(6);
  const isCompatible = address.parts.slice(0, 6).every((part) => part === 0);
  const range = address.range();
  if (isCompatible && range !== "unspecified" && range !== "loopback") {
    return new IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  }
  return null;
}

/** Names the range of an address, with IPv6 outside 2000::/3 counted as reserved. */
function rangeOf(address: IPv4 | IPv6): string {
  // ipaddr.js returns range names beyond its declared union (discard, deprecatedSiteLocal, ...).
  const range: string = address.range();
  if (range === "unicast" && address instanceof IPv6 && !address.match(ipv6GlobalUnicast)) {
    return "reserved";
  }
  return range;
}
