/**
 * The delivery benchmark's receiver: an HTTPS server with the test certificate that records the arrival
 * time (epoch milliseconds) of every request per path. GET /stats?path=/x returns them, and
 * GET /count?path=/x only how many there are.
 */
const fixtures = new URL("../../packages/core/test/fixtures/tls/", import.meta.url).pathname;

interface PathStats {
  count: number;
  arrivalsMs: number[];
}

const stats = new Map<string, PathStats>();

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  tls: { cert: Bun.file(`${fixtures}receiver-cert.pem`), key: Bun.file(`${fixtures}receiver-key.pem`) },
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/count") {
      // Polled while a run is under way, so the response carries the count alone, not every arrival time.
      return Response.json({ count: stats.get(url.searchParams.get("path") ?? "")?.count ?? 0 });
    }
    if (request.method === "GET" && url.pathname === "/stats") {
      const entry = stats.get(url.searchParams.get("path") ?? "");
      return Response.json(entry ?? { count: 0, arrivalsMs: [] });
    }
    await request.arrayBuffer();
    const entry = stats.get(url.pathname) ?? { count: 0, arrivalsMs: [] };
    entry.count++;
    entry.arrivalsMs.push(Date.now());
    stats.set(url.pathname, entry);
    return new Response("ok");
  },
});
console.log(JSON.stringify({ url: `https://127.0.0.1:${server.port}` }));
