/**
 * The benchmark's baseline: a bare Bun.serve route that checks the same hex HMAC as the service and
 * inserts one row per request with the same postgres driver and pool size. No framework, no parsing.
 */
import postgres from "postgres";

const databaseUrl = process.env.DATABASE_URL ?? "";
const secret = new TextEncoder().encode(process.env.SURGE_WEBHOOK_SECRET ?? "");
const sql = postgres(databaseUrl, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10), onnotice: () => {} });
await sql`create table if not exists baseline_events (id bigserial primary key, body bytea not null, received_at timestamptz not null default now())`;

function hexEqual(expected: Uint8Array, header: string | null): boolean {
  if (header === null || !/^[0-9a-f]{64}$/i.test(header)) {
    return false;
  }
  const signature = Uint8Array.fromHex(header);
  let difference = 0;
  for (let index = 0; index < 32; index++) {
    difference |= (signature[index] ?? 0) ^ (expected[index] ?? 0);
  }
  return difference === 0;
}

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    const expected = new Bun.CryptoHasher("sha256", secret).update(body).digest();
    if (!hexEqual(expected, request.headers.get("x-surge-signature"))) {
      return new Response("invalid signature", { status: 401 });
    }
    await sql`insert into baseline_events (body) values (${body})`;
    return Response.json({ received: true });
  },
});
console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}` }));
