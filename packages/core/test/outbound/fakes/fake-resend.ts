import {
  bearerToken,
  type FakeApiServer,
  type FakeReply,
  isJsonObject,
  pathnameOf,
  type RecordedRequest,
  startFakeApiServer,
} from "./fake-api-server";

/**
 * A fake of Resend's `POST /emails`, in the shapes of the real API: `Authorization: Bearer <key>`, a JSON
 * body `{from, to, subject, text | html, reply_to?}`, 200 `{"id": "<uuid>"}` on success, and errors as
 * `{"statusCode", "message", "name"}`. Like Resend, the fake replays the earlier response to a request
 * that repeats an Idempotency-Key with the same body, and sends nothing. Another body gets 409.
 */
export interface FakeResend extends FakeApiServer {
  /** The API key the fake accepts. */
  readonly apiKey: string;
  /** Emails accepted for sending, in order. An idempotent replay adds none. */
  readonly emails: readonly SentEmail[];
}

export interface SentEmail {
  /** The id returned to the caller, which Resend webhooks carry as `data.email_id`. */
  readonly id: string;
  readonly idempotencyKey: string | null;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string | null;
  readonly replyTo: string | null;
}

/** Builds a Resend error reply, such as `resendError(422, "validation_error", "Invalid `to` field.")`. */
export function resendError(statusCode: number, name: string, message: string): FakeReply {
  return { status: statusCode, body: { statusCode, message, name } };
}

/** Starts a fake Resend API; configure its `url` as RESEND_API_URL and its `apiKey` as RESEND_API_KEY. */
export async function startFakeResend(options: { apiKey?: string } = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? `re_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const emails: SentEmail[] = [];
  // Idempotency-Key → the request body it came with and the reply it got.
  const idempotent = new Map<string, { body: string; reply: FakeReply }>();

  const sendEmail = (request: RecordedRequest): FakeReply => {
    const token = bearerToken(request);
    if (token === null) {
      return resendError(401, "missing_api_key", "Missing API key in the authorization header.");
    }
    if (token !== apiKey) {
      return resendError(403, "invalid_api_key", "API key is invalid.");
    }
    const key = request.headers["idempotency-key"] ?? null;
    const earlier = key === null ? undefined : idempotent.get(key);
    if (earlier !== undefined) {
      return earlier.body === request.body
        ? earlier.reply
        : resendError(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.");
    }

    const checked = checkEmail(request.json);
    if (typeof checked === "string") {
      return resendError(422, "validation_error", checked);
    }
    const id = crypto.randomUUID();
    emails.push({ id, idempotencyKey: key, ...checked });
    const reply: FakeReply = { status: 200, body: { id } };
    if (key !== null) {
      idempotent.set(key, { body: request.body, reply });
    }
    return reply;
  };

  const server = await startFakeApiServer((request) => {
    if (pathnameOf(request) !== "/emails") {
      return resendError(404, "not_found", `The requested endpoint ${request.path} does not exist.`);
    }
    if (request.method !== "POST") {
      return resendError(405, "method_not_allowed", `Method ${request.method} is not allowed on /emails.`);
    }
    return sendEmail(request);
  });

  return {
    ...server,
    apiKey,
    emails,
    reset() {
      server.reset();
      emails.length = 0;
      idempotent.clear();
    },
  };
}

/** Validates a send request body and returns the email, or the validation message. */
function checkEmail(body: unknown): Omit<SentEmail, "id" | "idempotencyKey"> | string {
  if (!isJsonObject(body)) {
    return "The request body must be a JSON object.";
  }
  const { from, to, subject, text, html, reply_to: replyTo } = body;
  if (typeof from !== "string" || from === "") {
    return "The `from` field is missing.";
  }
  const recipients = typeof to === "string" ? [to] : to;
  if (!Array.isArray(recipients) || recipients.length === 0 || !recipients.every((item) => typeof item === "string")) {
    return "The `to` field must be an email address or a list of them.";
  }
  if (recipients.length > 50) {
    return "The `to` field accepts at most 50 recipients.";
  }
  if (typeof subject !== "string" || subject === "") {
    return "The `subject` field is missing.";
  }
  if (typeof text !== "string" && typeof html !== "string") {
    return "The `text` or `html` field is required.";
  }
  if (replyTo !== undefined && typeof replyTo !== "string" && !Array.isArray(replyTo)) {
    return "The `reply_to` field must be an email address or a list of them.";
  }
  return {
    from,
    to: recipients as string[],
    subject,
    text: typeof text === "string" ? text : null,
    replyTo: typeof replyTo === "string" ? replyTo : null,
  };
}
