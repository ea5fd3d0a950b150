/**
 * Sends a correctly signed sample event to a running server, like a provider's CLI, prints the response,
 * and then waits briefly for the event's processing outcome. The secret comes from the source's
 * environment variable, or from the secrets the embedded mode generated on first start.
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

Sends a signed sample event to a running Basalt Webhooks server, prints the response, and waits up to
5 seconds for the event to be processed.

Sources and event types:
${eventSources.map((source) => `  ${source.padEnd(11)} ${sampleEventTypes[source].join(", ")}`).join("\n")}

Options (bun run seed prints ids to use):
  --invoice ID    invoice id, required for Surge payment.* events (seed: invoiceId)
  --payment ID    Surge payment id; required for receipt.status_updated (seed: surgePaymentId)
  --amount N      payment amount, default 499.00 (the seeded invoice's amount)
  --currency C    payment currency, default USDC
  --lead ID       lead id, required for BasaltECHO events (seed: leadId)
  --call-id ID    call id for BasaltECHO and OpenAI call events
  --email-id ID   Resend email id, required for Resend events (seed: emailId)
  --url URL       server base URL, default the running embedded server or http://localhost:$PORT
  --no-wait       print the response and exit without waiting for processing
  --help          show this text

The signing secret is read from the source's variable (SURGE_WEBHOOK_SECRET, BASALTECHO_WEBHOOK_SECRET,
RESEND_WEBHOOK_SECRET, OPENAI_WEBHOOK_SECRET) or from DATA_DIR/generated-secrets.json.

Exit status: 0 when the event was accepted and, unless --no-wait, processed or ignored; 1 when the
server refused it or its processing failed; 2 for a usage error.`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      allowNegative: true,
      options: {
        invoice: { type: "string" },
        payment: { type: "string" },
        amount: { type: "string" },
        currency: { type: "string" },
        lead: { type: "string" },
        "call-id": { type: "string" },
        "email-id": { type: "string" },
        url: { type: "string" },
        wait: { type: "boolean", default: true },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\nRun bun run trigger --help for the options.`);
  }
})();

if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [sourceArgument, eventType, ...extra] = positionals;
if (sourceArgument === undefined) {
  fail(`Name a source and an event type, such as: bun run trigger surge payment.confirmed --invoice <id>\n\n${usage}`);
}
if (!(eventSources as readonly string[]).includes(sourceArgument)) {
  fail(`Unknown source ${sourceArgument}; use one of: ${eventSources.join(", ")}.`);
}
const source = sourceArgument as EventSource;
if (eventType === undefined) {
  fail(`Name a ${source} event type: ${sampleEventTypes[source].join(", ")}.`);
}
if (extra.length > 0) {
  fail(`Unexpected argument ${extra.join(" ")}; options start with --.`);
}
requireIds(source, eventType);

const folder = new DataFolder(process.env.DATA_DIR?.trim() || ".data");
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

const signing = signingSecret();
let headers: Record<string, string> = { ...sample.headers };
if (signing) {
  headers = signSampleEvent(sample, signing.secret, now);
} else if (!sourceDefinitions[source].allowsUnsigned) {
  fail(
    `No signing secret for ${source}: set ${sourceDefinitions[source].secretEnv.join(" or ")} to the secret the server uses.`,
  );
}

const base = baseUrl();
const url = `${base}${sourceDefinitions[source].route}`;
let response: Response;
try {
  response = await fetch(url, { method: "POST", headers, body: sample.body });
} catch (error) {
  fail(
    `Could not reach ${url} (${(error as Error).message.replace(/[.?]+$/, "")}). Is the server running? Start it with bun start.`,
  );
}
const text = await response.text();
console.log(
  `POST ${url}\n${signing ? `signed with ${signing.origin}` : "unsigned"}: ${source} ${eventType}\nHTTP ${response.status}`,
);
console.log(pretty(text));
if (response.status === 401) {
  console.error(`The server rejected the signature: does it use the same ${sourceDefinitions[source].secretEnv[0]}?`);
}

const answer = parseJson(text) as { id?: string; status?: string } | null;
let processingFailed = false;
if (response.ok && values.wait && answer?.status === "pending" && answer.id) {
  processingFailed = !(await waitForOutcome(base, answer.id));
}
process.exit(response.ok && !processingFailed ? 0 : 1);

/** Refuses to send an event without the ids its side effects need, so a typo cannot pass for success. */
function requireIds(eventSource: EventSource, type: string): void {
  const needs: [string | undefined, string, string][] =
    eventSource === "surge"
      ? type === "receipt.status_updated"
        ? [[values.payment, "--payment", "surgePaymentId"]]
        : [[values.invoice, "--invoice", "invoiceId"]]
      : eventSource === "basaltecho"
        ? [[values.lead, "--lead", "leadId"]]
        : eventSource === "resend"
          ? [[values["email-id"], "--email-id", "emailId"]]
          : [];
  for (const [value, flag, seedField] of needs) {
    if (!value) {
      fail(`${eventSource} ${type} needs ${flag} <id>; bun run seed prints one as ${seedField}.`);
    }
  }
}

function signingSecret(): { secret: string; origin: string } | null {
  for (const name of sourceDefinitions[source].secretEnv) {
    const value = process.env[name]?.trim();
    if (value) {
      return { secret: value, origin: name };
    }
  }
  const generated = folder.readGeneratedSecrets()[source];
  return generated ? { secret: generated, origin: folder.generatedSecretsPath } : null;
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

/**
 * Polls the internal events route until the event leaves `pending` or five seconds pass. It needs the
 * internal API key (INTERNAL_API_KEY, or the one the embedded mode generated); without it, this step is
 * skipped with a hint.
 */
async function waitForOutcome(serverUrl: string, eventId: string): Promise<boolean> {
  const apiKey = process.env.INTERNAL_API_KEY?.trim() || folder.readInternalApiKey();
  if (!apiKey) {
    console.log("Processing happens in the background; set INTERNAL_API_KEY to see its outcome here.");
    return true;
  }
  const deadline = Date.now() + 5_000;
  let event: EventSummary | null = null;
  while (Date.now() < deadline) {
    const reply = await fetch(`${serverUrl}/api/internal/events/${eventId}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    }).catch(() => null);
    if (!reply?.ok) {
      console.log("Processing happens in the background; the server log shows its outcome.");
      return true;
    }
    event = (await reply.json()) as EventSummary;
    // A claimed event is still pending while a worker applies it, so only an outcome or an error ends the wait.
    if (event?.status !== "pending" || event.last_error) {
      break;
    }
    await Bun.sleep(100);
  }
  if (event?.status === "processed") {
    console.log("Processed: its side effects are applied.");
    return true;
  }
  if (event?.status === "pending" && event.last_error) {
    console.error(`Processing failed and will be retried: ${event.last_error}`);
    return false;
  }
  if (event?.status === "pending") {
    console.log("Still pending after 5 seconds; the server log shows its outcome.");
    return true;
  }
  const reason = event?.status_reason ? `: ${event.status_reason}` : "";
  console.log(`${event?.status ?? "unknown"}${reason}`);
  return event?.status !== "failed";
}

interface EventSummary {
  readonly status?: string;
  readonly attempts?: number;
  readonly last_error?: string | null;
  readonly status_reason?: string | null;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

function pretty(value: string): string {
  const json = parseJson(value);
  return json === null ? value : JSON.stringify(json, null, 2);
}
