import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { maxBodyPrefixBytes, sendOutbound, systemResolver } from "../../../src/outbound/http/safe-fetch";
import type { OutboundHttpOptions, OutboundRequest, Resolver } from "../../../src/outbound/http/types";
import { checkAddress } from "../../../src/outbound/http/url-policy";
import { type HttpsReceiver, type HttpsReceiverOptions, receiverCaPem, startHttpsReceiver } from "../https-receiver";

const encoder = new TextEncoder();
const receiverName = "receiver.test";
const running: HttpsReceiver[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((receiver) => receiver.stop()));
});

async function receiver(options: HttpsReceiverOptions = {}): Promise<HttpsReceiver> {
  const started = await startHttpsReceiver(options);
  running.push(started);
  return started;
}

/** A resolver that returns each address list in turn, repeating the last, and records the host names it was called with. */
function scriptedResolver(...answers: string[][]): { resolve: Resolver; calls: string[] } {
  const calls: string[] = [];
  const resolve: Resolver = async (hostname) => {
    calls.push(hostname);
    return answers[Math.min(calls.length, answers.length) - 1] ?? [];
  };
  return { resolve, calls };
}

function httpOptions(overrides: Partial<OutboundHttpOptions> = {}): OutboundHttpOptions {
  return {
    allowLoopback: true,
    extraCaPem: receiverCaPem,
    timeoutMs: 5_000,
    resolve: scriptedResolver(["127.0.0.1"]).resolve,
    ...overrides,
  };
}

function post(url: string, body = '{"type":"form.submitted"}', headers: Record<string, string> = {}): OutboundRequest {
  return { url, headers: { "content-type": "application/json", ...headers }, body: encoder.encode(body) };
}

/** Replaces fetch so a test that must send nothing cannot reach any address, even if the code under test is broken. */
function fetchThatMustNotRun() {
  const fake = Object.assign(async () => new Response("fetch must not run", { status: 599 }), {
    preconnect: globalThis.fetch.preconnect,
  });
  return spyOn(globalThis, "fetch").mockImplementation(fake);
}

describe("sendOutbound delivery", () => {
  test("posts body to receiver", async () => {
    const target = await receiver();

    const result = await sendOutbound(post(`https://${receiverName}:${target.port}/hooks?tenant=1`), httpOptions());

    expect(result.kind).toBe("response");
    expect(result.kind === "response" ? result.status : 0).toBe(200);
    expect(result.kind === "response" ? result.bodyPrefix : "").toBe("ok");
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]?.method).toBe("POST");
    expect(target.requests[0]?.path).toBe("/hooks?tenant=1");
    expect(target.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  test("Host header carries host name", async () => {
    const target = await receiver();

    await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());

    expect(target.requests[0]?.headers.host).toBe(`${receiverName}:${target.port}`);
  });

  test("caller transport headers are replaced", async () => {
    const target = await receiver();
    const body = '{"a":1}';
    const headers = { host: "evil.test", "content-length": "1", "accept-encoding": "gzip" };

    await sendOutbound(post(`https://${receiverName}:${target.port}/`, body, headers), httpOptions());

    expect(target.requests[0]?.headers.host).toBe(`${receiverName}:${target.port}`);
    expect(target.requests[0]?.headers["content-length"]).toBe(String(body.length));
    expect(target.requests[0]?.headers["accept-encoding"]).toBe("identity");
    expect(target.requests[0]?.body).toEqual(encoder.encode(body));
  });

  test("non-ASCII body arrives exactly", async () => {
    const target = await receiver();
    const text = '{"name":"Zoë Ångström","city":"東京","mood":"🙂","note":"line\\nbreak"}';
    const bytes = encoder.encode(text);

    await sendOutbound(post(`https://${receiverName}:${target.port}/`, text), httpOptions());

    expect(bytes.length).toBeGreaterThan(text.length);
    expect(target.requests[0]?.body).toEqual(bytes);
    expect(target.requests[0]?.headers["content-length"]).toBe(String(bytes.length));
  });

  test("literal address skips DNS", async () => {
    const target = await receiver();
    const resolver = scriptedResolver(["10.0.0.1"]);

    const result = await sendOutbound(post(`${target.url}/hooks`), httpOptions({ resolve: resolver.resolve }));

    expect(result.kind).toBe("response");
    expect(resolver.calls).toHaveLength(0);
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]?.headers.host).toBe(`127.0.0.1:${target.port}`);
  });

  test("IPv6 literal reaches receiver", async () => {
    const target = await receiver({ hostname: "::1" });

    const result = await sendOutbound(post(`https://[::1]:${target.port}/v6`), httpOptions());

    expect(result.kind).toBe("response");
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]?.headers.host).toBe(`[::1]:${target.port}`);
  });

  test("resolved IPv6 address reaches receiver", async () => {
    const target = await receiver({ hostname: "::1" });
    const resolver = scriptedResolver(["::1"]);

    const result = await sendOutbound(
      post(`https://${receiverName}:${target.port}/v6`),
      httpOptions({ resolve: resolver.resolve }),
    );

    expect(result.kind).toBe("response");
    expect(target.requests[0]?.headers.host).toBe(`${receiverName}:${target.port}`);
  });

  test("system resolver finds localhost", async () => {
    const addresses = await systemResolver("localhost");

    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) {
      expect(checkAddress(address, { allowLoopback: true }).ok).toBe(true);
      expect(checkAddress(address, { allowLoopback: false }).ok).toBe(false);
    }
  });
});

describe("sendOutbound address checks", () => {
  test("blocked answer sends nothing", async () => {
    const fetchSpy = fetchThatMustNotRun();
    const resolver = scriptedResolver(["10.0.0.1"]);

    const result = await sendOutbound(post(`https://${receiverName}/`), httpOptions({ resolve: resolver.resolve }));
    fetchSpy.mockRestore();

    expect(result.kind).toBe("blocked");
    expect(result.kind === "blocked" ? result.message : "").toContain("10.0.0.1");
    expect(result.kind === "blocked" ? result.message : "").toContain("private");
    expect(result.kind === "blocked" ? result.message : "").toContain(receiverName);
    expect(fetchSpy).toHaveBeenCalledTimes(0);
  });

  test("public and private answer blocked", async () => {
    const fetchSpy = fetchThatMustNotRun();
    const resolver = scriptedResolver(["8.8.8.8", "2606:4700::1111", "10.0.0.1"]);

    const result = await sendOutbound(post(`https://${receiverName}/`), httpOptions({ resolve: resolver.resolve }));
    fetchSpy.mockRestore();

    expect(result.kind).toBe("blocked");
    expect(result.kind === "blocked" ? result.message : "").toContain("10.0.0.1");
    expect(fetchSpy).toHaveBeenCalledTimes(0);
  });

  test("loopback and private answer blocked", async () => {
    const target = await receiver();
    const resolver = scriptedResolver(["127.0.0.1", "192.168.1.1"]);

    const result = await sendOutbound(
      post(`https://${receiverName}:${target.port}/`),
      httpOptions({ resolve: resolver.resolve }),
    );

    expect(result.kind).toBe("blocked");
    expect(result.kind === "blocked" ? result.message : "").toContain("192.168.1.1");
    expect(target.requests).toHaveLength(0);
  });

  test("non-address answer is blocked", async () => {
    const fetchSpy = fetchThatMustNotRun();
    const resolver = scriptedResolver(["not-an-address"]);

    const result = await sendOutbound(post(`https://${receiverName}/`), httpOptions({ resolve: resolver.resolve }));
    fetchSpy.mockRestore();

    expect(result.kind).toBe("blocked");
    expect(fetchSpy).toHaveBeenCalledTimes(0);
  });

  test("loopback literal blocked by default", async () => {
    const target = await receiver();

    const result = await sendOutbound(post(`${target.url}/`), httpOptions({ allowLoopback: false }));

    expect(result.kind).toBe("blocked");
    expect(result.kind === "blocked" ? result.message : "").toContain("loopback");
    expect(target.requests).toHaveLength(0);
  });

  test("resolved loopback blocked by default", async () => {
    const target = await receiver();

    const result = await sendOutbound(
      post(`https://${receiverName}:${target.port}/`),
      httpOptions({ allowLoopback: false }),
    );

    expect(result.kind).toBe("blocked");
    expect(result.kind === "blocked" ? result.message : "").toContain("127.0.0.1");
    expect(target.requests).toHaveLength(0);
  });

  test("plain HTTP URL is blocked", async () => {
    const fetchSpy = fetchThatMustNotRun();
    const resolver = scriptedResolver(["127.0.0.1"]);

    const result = await sendOutbound(post(`http://${receiverName}:8080/`), httpOptions({ resolve: resolver.resolve }));
    fetchSpy.mockRestore();

    expect(result.kind).toBe("blocked");
    expect(result.kind === "blocked" ? result.message : "").toContain("HTTPS");
    expect(resolver.calls).toHaveLength(0);
    expect(fetchSpy).toHaveBeenCalledTimes(0);
  });

  const hostileUrls = [
    "https://169.254.169.254/latest/meta-data/",
    "https://2130706433/",
    "https://[::ffff:7f00:1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[fd00::1]/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://user:secret@example.com/",
  ];

  for (const url of hostileUrls) {
    test(`blocks ${url}`, async () => {
      const fetchSpy = fetchThatMustNotRun();
      const resolver = scriptedResolver(["8.8.8.8"]);

      const result = await sendOutbound(post(url), httpOptions({ allowLoopback: false, resolve: resolver.resolve }));
      fetchSpy.mockRestore();

      expect(result.kind).toBe("blocked");
      expect(resolver.calls).toHaveLength(0);
      expect(fetchSpy).toHaveBeenCalledTimes(0);
    });
  }

  test("rebinding resolver is asked once", async () => {
    const first = await receiver({ hostname: "127.0.0.2" });
    const second = await receiver({ hostname: "127.0.0.3", port: first.port });
    const resolver = scriptedResolver(["127.0.0.2"], ["127.0.0.3"]);

    const result = await sendOutbound(
      post(`https://${receiverName}:${first.port}/hooks`),
      httpOptions({ resolve: resolver.resolve }),
    );

    expect(second.port).toBe(first.port);
    expect(result.kind).toBe("response");
    expect(resolver.calls).toEqual([receiverName]);
    expect(first.requests).toHaveLength(1);
    expect(first.requests[0]?.headers.host).toBe(`${receiverName}:${first.port}`);
    expect(second.requests).toHaveLength(0);
  });

  test("first of several addresses used", async () => {
    const first = await receiver({ hostname: "127.0.0.2" });
    const second = await receiver({ hostname: "127.0.0.3", port: first.port });
    const resolver = scriptedResolver(["127.0.0.2", "127.0.0.3"]);

    await sendOutbound(post(`https://${receiverName}:${first.port}/`), httpOptions({ resolve: resolver.resolve }));

    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(0);
  });
});

describe("sendOutbound DNS failures", () => {
  test("resolver error is network_error", async () => {
    const resolve: Resolver = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.test"), { code: "ENOTFOUND" });
    };

    const result = await sendOutbound(post("https://nowhere.test/"), httpOptions({ resolve }));

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("DNS lookup of nowhere.test failed");
    expect(result.kind === "network_error" ? result.message : "").toContain("ENOTFOUND");
  });

  test("empty answer is network_error", async () => {
    const resolver = scriptedResolver([]);

    const result = await sendOutbound(post("https://nowhere.test/"), httpOptions({ resolve: resolver.resolve }));

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("no addresses");
  });

  test("hanging resolver times out", async () => {
    const resolve: Resolver = () => new Promise(() => {});

    const result = await sendOutbound(post("https://slow-dns.test/"), httpOptions({ resolve, timeoutMs: 200 }));

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("timed out after 200 ms");
    expect(result.durationMs).toBeGreaterThanOrEqual(150);
    expect(result.durationMs).toBeLessThan(2_000);
  });
});

describe("sendOutbound responses", () => {
  for (const status of [301, 302, 303, 307, 308]) {
    test(`${status} redirect is not followed`, async () => {
      const elsewhere = await receiver();
      const target = await receiver({ reply: { status, headers: { location: `${elsewhere.url}/stolen` } } });

      const result = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());

      expect(result.kind).toBe("response");
      expect(result.kind === "response" ? result.status : 0).toBe(status);
      expect(result.kind === "response" ? result.headers.get("location") : null).toBe(`${elsewhere.url}/stolen`);
      expect(target.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    });
  }

  test("error status is a response", async () => {
    const target = await receiver();
    target.reply({ status: 503, headers: { "retry-after": "120" }, body: "down" });

    const result = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());

    expect(result.kind).toBe("response");
    expect(result.kind === "response" ? result.status : 0).toBe(503);
    expect(result.kind === "response" ? result.headers.get("retry-after") : null).toBe("120");
    expect(result.kind === "response" ? result.bodyPrefix : "").toBe("down");
  });

  test("reply rule sees each request", async () => {
    const target = await receiver({ reply: (request) => ({ status: request.path === "/gone" ? 410 : 204, body: "" }) });

    const goneResult = await sendOutbound(post(`https://${receiverName}:${target.port}/gone`), httpOptions());
    const acceptedResult = await sendOutbound(post(`https://${receiverName}:${target.port}/hooks`), httpOptions());

    expect(goneResult.kind === "response" ? goneResult.status : 0).toBe(410);
    expect(acceptedResult.kind === "response" ? acceptedResult.status : 0).toBe(204);
    expect(acceptedResult.kind === "response" ? acceptedResult.bodyPrefix : "missing").toBe("");
  });

  test("1 MB body yields 4096 bytes", async () => {
    const target = await receiver({ reply: { body: "x".repeat(1_000_000) } });

    const result = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());

    expect(result.kind).toBe("response");
    expect(result.kind === "response" ? result.bodyPrefix : "").toBe("x".repeat(maxBodyPrefixBytes));
  });

  test("endless body stops at 4096", async () => {
    const chunk = encoder.encode("y".repeat(1_000));
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(chunk);
        },
      });
    const target = await receiver({ reply: { body: endless } });

    const result = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());

    expect(result.kind).toBe("response");
    expect(result.kind === "response" ? result.bodyPrefix : "").toBe("y".repeat(maxBodyPrefixBytes));
    expect(result.durationMs).toBeLessThan(2_000);
  });

  test("multi-byte prefix decodes cleanly", async () => {
    const target = await receiver({ reply: { body: "é".repeat(3_000) } });

    const result = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());

    expect(result.kind === "response" ? result.bodyPrefix : "").toBe("é".repeat(maxBodyPrefixBytes / 2));
  });
});

describe("sendOutbound timeouts", () => {
  for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    test(`timeout ${timeoutMs} is network_error`, async () => {
      const fetchSpy = fetchThatMustNotRun();

      const result = await sendOutbound(post("https://example.com/"), httpOptions({ timeoutMs }));
      fetchSpy.mockRestore();

      expect(result.kind).toBe("network_error");
      expect(result.kind === "network_error" ? result.message : "").toContain(`not ${timeoutMs}`);
      expect(fetchSpy).toHaveBeenCalledTimes(0);
    });
  }

  test("slow receiver times out alone", async () => {
    const slow = await receiver({ reply: { delayMs: 3_000 } });
    const fast = await receiver();

    const [slowResult, fastResult] = await Promise.all([
      sendOutbound(post(`https://${receiverName}:${slow.port}/`), httpOptions({ timeoutMs: 500 })),
      sendOutbound(post(`https://${receiverName}:${fast.port}/`), httpOptions({ timeoutMs: 5_000 })),
    ]);

    expect(slowResult.kind).toBe("network_error");
    expect(slowResult.kind === "network_error" ? slowResult.message : "").toContain("timed out after 500 ms");
    expect(slowResult.durationMs).toBeGreaterThanOrEqual(450);
    expect(slowResult.durationMs).toBeLessThan(2_500);
    expect(slow.requests).toHaveLength(1);
    expect(fastResult.kind).toBe("response");
    expect(fastResult.durationMs).toBeLessThan(slowResult.durationMs);
  });

  test("stalled body times out", async () => {
    const stalled = () =>
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          controller.enqueue(encoder.encode("partial"));
          await Bun.sleep(10_000);
        },
      });
    const target = await receiver({ reply: { body: stalled } });

    const result = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions({ timeoutMs: 400 }));

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("timed out after 400 ms");
    expect(result.durationMs).toBeLessThan(2_500);
  });
});

describe("sendOutbound TLS and connections", () => {
  test("certificate checked against host name", async () => {
    const target = await receiver();
    const resolver = scriptedResolver(["127.0.0.1"]);

    const result = await sendOutbound(
      post(`https://other.test:${target.port}/`),
      httpOptions({ resolve: resolver.resolve }),
    );

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("TLS");
    expect(result.kind === "network_error" ? result.message : "").toContain("other.test");
    expect(target.requests).toHaveLength(0);
  });

  test("pooled connection not reused across names", async () => {
    const target = await receiver();
    const resolver = scriptedResolver(["127.0.0.1"]);

    const first = await sendOutbound(post(`https://${receiverName}:${target.port}/`), httpOptions());
    const second = await sendOutbound(
      post(`https://other.test:${target.port}/`),
      httpOptions({ resolve: resolver.resolve }),
    );

    expect(first.kind).toBe("response");
    expect(second.kind).toBe("network_error");
    expect(second.kind === "network_error" ? second.message : "").toContain("TLS");
    expect(target.requests).toHaveLength(1);
  });

  test("untrusted certificate is TLS error", async () => {
    const target = await receiver();

    const result = await sendOutbound(
      post(`https://${receiverName}:${target.port}/`),
      httpOptions({ extraCaPem: undefined }),
    );

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("TLS");
    expect(target.requests).toHaveLength(0);
  });

  test("plain HTTP port is TLS error", async () => {
    const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("plain") });

    const result = await sendOutbound(post(`https://${receiverName}:${plain.port}/`), httpOptions());
    await plain.stop(true);

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("TLS");
  });

  test("closed port is connection refused", async () => {
    const stopped = await startHttpsReceiver();
    await stopped.stop();

    const result = await sendOutbound(post(`https://${receiverName}:${stopped.port}/`), httpOptions());

    expect(result.kind).toBe("network_error");
    expect(result.kind === "network_error" ? result.message : "").toContain("refused");
    expect(result.kind === "network_error" ? result.message : "").toContain(`127.0.0.1 port ${stopped.port}`);
  });
});
