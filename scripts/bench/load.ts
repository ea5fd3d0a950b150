/**
 * Load generator, run as its own process: sends pre-signed Surge payment events at a fixed number of
 * concurrent connections and prints acknowledged events per second and latency percentiles as JSON.
 * Usage: bun load.ts <url> <count> <concurrency> <secret> <invoice-prefix> <payment-prefix>
 */
const [
  url = "",
  countText = "20000",
  concurrencyText = "64",
  secret = "",
  invoicePrefix = "inv_bench_",
  paymentPrefix = "pay",
] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const key = new TextEncoder().encode(secret);

const requests = Array.from({ length: count }, (_, index) => {
  const body = JSON.stringify({
    type: "payment.confirmed",
    data: {
      id: `${paymentPrefix}_${index}`,
      external_id: `${invoicePrefix}${index}`,
      amount: "499.00",
      currency: "USDC",
      network: "base",
      tx_hash: `0x${index.toString(16).padStart(64, "0")}`,
    },
  });
  const signature = new Bun.CryptoHasher("sha256", key).update(body).digest("hex");
  return { body, signature };
});

const latencies = new Float64Array(count);
let next = 0;
let failures = 0;
const statuses: Record<number, number> = {};
let firstFailure = "";
const startedAt = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let index = next++; index < count; index = next++) {
      const request = requests[index];
      if (!request) {
        break;
      }
      const sentAt = performance.now();
      const response = await fetch(url, {
        method: "POST",
        body: request.body,
        headers: { "content-type": "application/json", "x-surge-signature": request.signature },
      });
      const text = await response.text();
      if (response.status !== 200 && firstFailure === "") {
        firstFailure = text.slice(0, 300);
      }
      latencies[index] = performance.now() - sentAt;
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status !== 200) {
        failures++;
      }
    }
  }),
);
const elapsedSeconds = (performance.now() - startedAt) / 1000;
const sorted = Array.from(latencies).sort((left, right) => left - right);
const percentile = (fraction: number) => sorted[Math.min(count - 1, Math.floor(count * fraction))] ?? 0;
console.log(
  JSON.stringify({
    count,
    failures,
    statuses,
    firstFailure,
    elapsedSeconds,
    perSecond: count / elapsedSeconds,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
  }),
);
