/**
 * The delivery benchmark's baseline: a bare loop of Standard Webhooks-signed fetch calls to the receiver,
 * with the same concurrency as the service, and nothing else: no database, no attempt log. It first
 * sends `warmup` untimed requests to <url>-warm, as the service's worker is warmed up before it is timed.
 * Usage: bun bare-sender.ts <url> <count> <concurrency> <whsec secret> <warmup>
 */
import { rootCertificates } from "node:tls";
import { signStandardWebhook } from "@basalt/core";

const [url = "", countText = "5000", concurrencyText = "32", secret = "", warmupText = "0"] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const key = Uint8Array.fromBase64(secret.slice("whsec_".length));
const extraCa = await Bun.file(
  new URL("../../packages/core/test/fixtures/tls/ca-cert.pem", import.meta.url).pathname,
).text();
// The same trust store as the service's development setting: the bundled CAs plus the test CA.
const ca = [...rootCertificates, extraCa];
const encoder = new TextEncoder();
let failures = 0;

/** Sends `total` signed requests to `target` from `concurrency` loops. */
async function send(target: string, total: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < total; index = next++) {
        await sendOne(target, index);
      }
    }),
  );
}

async function sendOne(target: string, index: number): Promise<void> {
  const id = `msg_bare_${index}`;
  const body = encoder.encode(
    JSON.stringify({ type: "call.ended", timestamp: new Date().toISOString(), data: { index } }),
  );
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(target, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signStandardWebhook(key, id, timestamp, body),
    },
    tls: { ca },
  });
  await response.arrayBuffer();
  if (!response.ok) {
    failures++;
  }
}

await send(`${url}-warm`, Number(warmupText));
failures = 0;
// Every request counts as queued when the timed run starts, as the service's deliveries are released at once.
const startedAtMs = Date.now();
const startedAt = performance.now();
await send(url, count);
console.log(JSON.stringify({ count, failures, startedAtMs, elapsedSeconds: (performance.now() - startedAt) / 1000 }));
