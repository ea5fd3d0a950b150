/**
 * Sends a correctly signed sample event to a running server, like a provider's CLI, and prints the
 * response. The secret comes from the source's environment variable, or from the secrets the embedded
 * mode generated on first start.
 */
import { parseArgs } from "node:util";
import {
  buildSampleEvent,
  type EventSource,
  eventSources,
  sampleEventTypes,
  signSampleEvent,
  sourceDefinitions,
} from "@basalt/core";
import { DataFolder, isProcessAlive } from "@basalt/server/data-folder";

const usage = `Usage: bun run trigger <source> <event-type> [options]

Sends a signed sample event to a running Basalt Webhooks server and prints the status and body.

Sources and event types:
${eventSources.map((source) => `  ${source.padEnd(11)} ${sampleEventTypes[source].join(", ")}`).join("\n")}

Options:
  --invoice ID    invoice id for Surge payments (data.external_id)
  --payment ID    Surge payment id; for receipt.status_updated, the invoice's Surge payment id
  --amount N      payment amount, default 499.00 (the seeded invoice's amount)
  --currency C    payment currency, default USDC
  --lead ID       lead id for BasaltECHO events
  --call-id ID    call id for BasaltECHO and OpenAI call events
  --email-id ID   Resend email id (data.email_id) of an outreach email
  --url URL       server base URL, default the running embedded server or http://localhost:$PORT
  --help          show this text

The signing secret is read from the source's variable (SURGE_WEBHOOK_SECRET, BASALTECHO_WEBHOOK_SECRET,
RESEND_WEBHOOK_SECRET, OPENAI_WEBHOOK_SECRET) or from DATA_DIR/generated-secrets.json.`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        invoice: { type: "string" },
        payment: { type: "string" },
        amount: { type: "string" },
        currency: { type: "string" },
        lead: { type: "string" },
        "call-id": { type: "string" },
        "email-id": { type: "string" },
        url: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${usage}`);
  }
})();

if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [sourceArgument, eventType] = positionals;
if (!sourceArgument || !eventType || positionals.length > 2) {
  fail(usage);
}
if (!(eventSources as readonly string[]).includes(sourceArgument)) {
  fail(`Unknown source ${sourceArgument}; use one of: ${eventSources.join(", ")}.`);
}
const source = sourceArgument as EventSource;
const folder = new DataFolder(process.env.DATA_DIR?.trim() || ".data");

function signingSecret(): string | null {
  for (const name of sourceDefinitions[source].secretEnv) {
    const value = process.env[name]?.trim();
    if (value) {
      return value;
    }
  }
  return folder.readGeneratedSecrets()[source] ?? null;
}

function baseUrl(): string {
  if (values.url) {
    return values.url.replace(/\/+$/, "");
  }
  const server = process.env.DATABASE_URL ? null : folder.readServerFile();
  if (server && isProcessAlive(server.pid)) {
    return server.url;
  }
  return `http://localhost:${process.env.PORT?.trim() || "3000"}`;
}

const now = new Date();
let sample: ReturnType<typeof buildSampleEvent>;
try {
  sample = buildSampleEvent(source, eventType, {
    invoiceId: values.invoice,
    paymentId: values.payment,
    amount: values.amount,
    currency: values.currency,
    leadId: values.lead,
    callId: values["call-id"],
    emailId: values["email-id"],
    now,
  });
} catch (error) {
  fail((error as Error).message);
}

const secret = signingSecret();
let headers: Record<string, string> = { ...sample.headers };
if (secret) {
  headers = signSampleEvent(sample, secret, now);
} else if (!sourceDefinitions[source].allowsUnsigned) {
  fail(
    `No signing secret for ${source}: set ${sourceDefinitions[source].secretEnv.join(" or ")} to the secret the server uses.`,
  );
}

const url = `${baseUrl()}${sourceDefinitions[source].route}`;
try {
  const response = await fetch(url, { method: "POST", headers, body: sample.body });
  const text = await response.text();
  console.log(`POST ${url}\n${secret ? "signed" : "unsigned"} ${source} ${eventType}\nHTTP ${response.status}`);
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  fail(`Could not reach ${url}: ${(error as Error).message}. Is the server running (bun start)?`);
}
