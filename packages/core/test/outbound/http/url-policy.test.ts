import { describe, expect, test } from "bun:test";
import {
  checkAddress,
  checkEndpointUrl,
  literalAddressOf,
  maxEndpointUrlLength,
} from "../../../src/outbound/http/url-policy";

const strict = { allowLoopback: false };
const development = { allowLoopback: true };

describe("checkEndpointUrl", () => {
  const hostileUrls: { name: string; url: string; mentions: string }[] = [
    { name: "plain http", url: "http://example.com/hooks", mentions: "HTTPS" },
    { name: "ftp scheme", url: "ftp://example.com/hooks", mentions: "HTTPS" },
    { name: "user and password", url: "https://user:secret@example.com/hooks", mentions: "user name or password" },
    { name: "user only", url: "https://user@example.com/hooks", mentions: "user name or password" },
    { name: "relative URL", url: "/hooks", mentions: "not valid" },
    { name: "empty string", url: "", mentions: "not valid" },
    { name: "127.0.0.1", url: "https://127.0.0.1/hooks", mentions: "loopback" },
    { name: "127.0.0.1 with port", url: "https://127.0.0.1:8443/hooks", mentions: "loopback" },
    { name: "127.0.0.1 with trailing dot", url: "https://127.0.0.1./hooks", mentions: "loopback" },
    { name: "decimal 127.0.0.1", url: "https://2130706433/", mentions: "loopback" },
    { name: "hex 127.0.0.1", url: "https://0x7f000001/", mentions: "loopback" },
    { name: "octal 127.0.0.1", url: "https://0177.0.0.1/", mentions: "loopback" },
    { name: "short 127.0.0.1", url: "https://127.1/", mentions: "loopback" },
    { name: "mixed-radix 127.0.0.1", url: "https://0x7f.0.0.01/", mentions: "loopback" },
    { name: "other 127/8 address", url: "https://127.255.255.254/", mentions: "loopback" },
    { name: "IPv6 loopback", url: "https://[::1]/", mentions: "loopback" },
    { name: "IPv4-mapped dotted loopback", url: "https://[::ffff:127.0.0.1]/", mentions: "loopback" },
    { name: "IPv4-mapped hex loopback", url: "https://[::ffff:7f00:1]/", mentions: "loopback" },
    { name: "IPv4-compatible loopback", url: "https://[::127.0.0.1]/", mentions: "loopback" },
    { name: "IPv4-compatible hex loopback", url: "https://[::7f00:1]/", mentions: "loopback" },
    { name: "IPv4-mapped private", url: "https://[::ffff:10.0.0.1]/", mentions: "private" },
    { name: "10.0.0.0/8", url: "https://10.1.2.3/", mentions: "private" },
    { name: "172.16.0.0/12", url: "https://172.16.0.1/", mentions: "private" },
    { name: "172.31.x upper end", url: "https://172.31.255.254/", mentions: "private" },
    { name: "192.168.0.0/16", url: "https://192.168.1.1/", mentions: "private" },
    { name: "metadata address", url: "https://169.254.169.254/latest/meta-data/", mentions: "link-local" },
    { name: "decimal metadata address", url: "https://2852039166/", mentions: "link-local" },
    { name: "carrier-grade NAT", url: "https://100.64.0.1/", mentions: "carrier-grade NAT" },
    { name: "IPv4 multicast", url: "https://224.0.0.1/", mentions: "multicast" },
    { name: "limited broadcast", url: "https://255.255.255.255/", mentions: "broadcast" },
    { name: "unspecified IPv4", url: "https://0.0.0.0/", mentions: "unspecified" },
    { name: "short unspecified IPv4", url: "https://0/", mentions: "unspecified" },
    { name: "TEST-NET-1", url: "https://192.0.2.1/", mentions: "reserved" },
    { name: "TEST-NET-2", url: "https://198.51.100.1/", mentions: "reserved" },
    { name: "TEST-NET-3", url: "https://203.0.113.1/", mentions: "reserved" },
    { name: "benchmarking range", url: "https://198.18.0.1/", mentions: "reserved" },
    { name: "future-use range", url: "https://240.0.0.1/", mentions: "reserved" },
    { name: "unique-local fc00::/8", url: "https://[fc00::1]/", mentions: "unique-local" },
    { name: "unique-local fd00::/8", url: "https://[fd00::1]/", mentions: "unique-local" },
    { name: "IPv6 link-local", url: "https://[fe80::1]/", mentions: "link-local" },
    { name: "IPv6 multicast", url: "https://[ff02::1]/", mentions: "multicast" },
    { name: "unspecified IPv6", url: "https://[::]/", mentions: "unspecified" },
    { name: "NAT64 loopback", url: "https://[64:ff9b::7f00:1]/", mentions: "NAT64" },
    { name: "NAT64 public", url: "https://[64:ff9b::808:808]/", mentions: "NAT64" },
    { name: "6to4 loopback", url: "https://[2002:7f00:1::1]/", mentions: "6to4" },
    { name: "Teredo", url: "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", mentions: "Teredo" },
    { name: "IPv6 documentation", url: "https://[2001:db8::1]/", mentions: "reserved" },
    { name: "IPv6 outside 2000::/3", url: "https://[4000::1]/", mentions: "reserved" },
    { name: "localhost", url: "https://localhost/hooks", mentions: "names this machine" },
    { name: "localhost with port", url: "https://localhost:8443/hooks", mentions: "names this machine" },
    { name: "localhost with trailing dot", url: "https://localhost./hooks", mentions: "names this machine" },
    { name: "upper-case localhost", url: "https://LOCALHOST/hooks", mentions: "names this machine" },
    { name: "subdomain of localhost", url: "https://foo.localhost/hooks", mentions: "names this machine" },
    { name: "metadata host name", url: "https://metadata.google.internal/", mentions: "private network name" },
    { name: "mDNS name", url: "https://printer.local/", mentions: "private network name" },
    { name: "home network name", url: "https://router.home.arpa/", mentions: "private network name" },
  ];

  for (const { name, url, mentions } of hostileUrls) {
    test(`rejects ${name}`, () => {
      const result = checkEndpointUrl(url, strict);

      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.message).toContain(mentions);
    });
  }

  test("rejects URL over 2048 characters", () => {
    const url = `https://example.com/${"a".repeat(maxEndpointUrlLength)}`;

    const result = checkEndpointUrl(url, strict);

    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.message).toContain(String(maxEndpointUrlLength));
  });

  test("accepts URL of exactly 2048 characters", () => {
    const prefix = "https://example.com/";
    const url = `${prefix}${"a".repeat(maxEndpointUrlLength - prefix.length)}`;

    const result = checkEndpointUrl(url, strict);

    expect(url).toHaveLength(maxEndpointUrlLength);
    expect(result.ok).toBe(true);
  });

  test("blocked address message names it", () => {
    const result = checkEndpointUrl("https://0x7f000001/", strict);

    expect(result.ok ? "" : result.message).toContain("127.0.0.1");
  });

  test("credentials message hides the password", () => {
    const result = checkEndpointUrl("https://user:hunter2@example.com/", strict);

    expect(result.ok ? "hunter2" : result.message).not.toContain("hunter2");
  });

  const publicUrls: { name: string; url: string; normalized: string }[] = [
    { name: "host name", url: "https://example.com/hooks", normalized: "https://example.com/hooks" },
    { name: "port and query", url: "https://example.com:8443/h?a=1", normalized: "https://example.com:8443/h?a=1" },
    { name: "upper-case host", url: "HTTPS://Example.COM/Hooks", normalized: "https://example.com/Hooks" },
    { name: "public IPv4", url: "https://8.8.8.8/hooks", normalized: "https://8.8.8.8/hooks" },
    { name: "public IPv6", url: "https://[2606:4700::1111]/hooks", normalized: "https://[2606:4700::1111]/hooks" },
    { name: "IPv4-mapped public", url: "https://[::ffff:8.8.8.8]/", normalized: "https://[::ffff:808:808]/" },
    { name: "international name", url: "https://bücher.example/", normalized: "https://xn--bcher-kva.example/" },
    {
      name: "name containing localhost",
      url: "https://localhost.example.com/",
      normalized: "https://localhost.example.com/",
    },
  ];

  for (const { name, url, normalized } of publicUrls) {
    test(`accepts ${name}`, () => {
      const result = checkEndpointUrl(url, strict);

      expect(result.ok).toBe(true);
      expect(result.ok ? result.url.toString() : "").toBe(normalized);
    });
  }
});

describe("checkEndpointUrl with allowLoopback", () => {
  const loopbackUrls = [
    "https://127.0.0.1:8443/hooks",
    "https://2130706433/",
    "https://127.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://localhost/",
    "https://receiver.localhost/",
  ];

  for (const url of loopbackUrls) {
    test(`accepts ${url}`, () => {
      const result = checkEndpointUrl(url, development);

      expect(result.ok).toBe(true);
    });
  }

  const stillBlocked = [
    "http://127.0.0.1/",
    "https://10.0.0.1/",
    "https://169.254.169.254/",
    "https://[fd00::1]/",
    "https://0.0.0.0/",
    "https://metadata.google.internal/",
    "https://printer.local/",
  ];

  for (const url of stillBlocked) {
    test(`still rejects ${url}`, () => {
      const result = checkEndpointUrl(url, development);

      expect(result.ok).toBe(false);
    });
  }
});

describe("checkAddress", () => {
  const blocked: { address: string; range: string }[] = [
    { address: "127.0.0.1", range: "loopback" },
    { address: "127.0.0.2", range: "loopback" },
    { address: "::1", range: "loopback" },
    { address: "::ffff:127.0.0.1", range: "loopback" },
    { address: "::ffff:7f00:1", range: "loopback" },
    { address: "::127.0.0.1", range: "loopback" },
    { address: "::7f00:1", range: "loopback" },
    { address: "10.0.0.1", range: "private" },
    { address: "172.16.0.1", range: "private" },
    { address: "192.168.0.1", range: "private" },
    { address: "::ffff:192.168.0.1", range: "private" },
    { address: "169.254.169.254", range: "link-local" },
    { address: "::ffff:169.254.169.254", range: "link-local" },
    { address: "100.64.0.1", range: "carrier-grade NAT" },
    { address: "224.0.0.1", range: "multicast" },
    { address: "255.255.255.255", range: "broadcast" },
    { address: "0.0.0.0", range: "unspecified" },
    { address: "192.0.2.1", range: "reserved" },
    { address: "198.51.100.1", range: "reserved" },
    { address: "203.0.113.1", range: "reserved" },
    { address: "198.18.0.1", range: "reserved" },
    { address: "240.0.0.1", range: "reserved" },
    { address: "::", range: "unspecified" },
    { address: "::2", range: "unspecified" },
    { address: "fc00::1", range: "unique-local" },
    { address: "fd00::1", range: "unique-local" },
    { address: "fe80::1", range: "link-local" },
    { address: "fec0::1", range: "site-local" },
    { address: "ff02::1", range: "multicast" },
    { address: "64:ff9b::7f00:1", range: "NAT64" },
    { address: "64:ff9b::8.8.8.8", range: "NAT64" },
    { address: "64:ff9b:1::1", range: "NAT64" },
    { address: "2002:7f00:1::1", range: "6to4" },
    { address: "2001::1", range: "Teredo" },
    { address: "2001:db8::1", range: "reserved" },
    { address: "100::1", range: "discard" },
    { address: "::ffff:0:7f00:1", range: "IPv4-translated" },
    { address: "4000::1", range: "reserved" },
  ];

  for (const { address, range } of blocked) {
    test(`rejects ${address} as ${range}`, () => {
      const result = checkAddress(address, strict);

      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.message).toContain(address);
      expect(result.ok ? "" : result.message).toContain(`the ${range} range`);
    });
  }

  const notAddresses = ["", "example.com", "127.0.0.1.example", "1.2.3.4.5", "::g", "300.1.1.1"];

  for (const value of notAddresses) {
    test(`rejects non-address "${value}"`, () => {
      const result = checkAddress(value, development);

      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.message).toContain("not an IP address");
    });
  }

  test("rejects zone index", () => {
    const result = checkAddress("2606:4700::1111%eth0", strict);

    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.message).toContain("zone index");
  });

  test("mapped message names IPv4", () => {
    const result = checkAddress("::ffff:7f00:1", strict);

    expect(result.ok ? "" : result.message).toContain("IPv4 127.0.0.1");
  });

  const publicAddresses: { address: string; canonical: string }[] = [
    { address: "8.8.8.8", canonical: "8.8.8.8" },
    { address: "1.1.1.1", canonical: "1.1.1.1" },
    { address: "2606:4700::1111", canonical: "2606:4700::1111" },
    { address: "2606:4700:0:0:0:0:0:1111", canonical: "2606:4700::1111" },
    { address: "::ffff:8.8.8.8", canonical: "::ffff:808:808" },
  ];

  for (const { address, canonical } of publicAddresses) {
    test(`accepts public ${address}`, () => {
      const result = checkAddress(address, strict);

      expect(result).toEqual({ ok: true, address: canonical });
    });
  }
});

describe("checkAddress with allowLoopback", () => {
  const loopback = ["127.0.0.1", "127.0.0.3", "127.255.255.254", "::1", "::ffff:127.0.0.1"];

  for (const address of loopback) {
    test(`accepts loopback ${address}`, () => {
      const result = checkAddress(address, development);

      expect(result.ok).toBe(true);
    });
  }

  const stillBlocked = ["0.0.0.0", "::", "10.0.0.1", "169.254.169.254", "fd00::1", "fe80::1", "64:ff9b::7f00:1"];

  for (const address of stillBlocked) {
    test(`still rejects ${address}`, () => {
      const result = checkAddress(address, development);

      expect(result.ok).toBe(false);
    });
  }
});

describe("literalAddressOf", () => {
  const cases: { url: string; address: string | null }[] = [
    { url: "https://127.0.0.1/", address: "127.0.0.1" },
    { url: "https://2130706433/", address: "127.0.0.1" },
    { url: "https://[::1]:8443/", address: "::1" },
    { url: "https://[::ffff:127.0.0.1]/", address: "::ffff:7f00:1" },
    { url: "https://example.com/", address: null },
    { url: "https://1.example/", address: null },
  ];

  for (const { url, address } of cases) {
    test(`reads ${url}`, () => {
      const result = literalAddressOf(new URL(url));

      expect(result).toBe(address);
    });
  }
});
