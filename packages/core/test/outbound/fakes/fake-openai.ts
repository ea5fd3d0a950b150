import {
  bearerToken,
  type FakeApiServer,
  type FakeReply,
  isJsonObject,
  pathParameter,
  type RecordedRequest,
  startFakeApiServer,
} from "./fake-api-server";

/**
 * A fake of the OpenAI Realtime calls API (base URL `.../v1`): `POST /realtime/calls/{call_id}/accept`
 * with a session body whose `type` is `realtime`, and `POST /realtime/calls/{call_id}/reject` with an
 * optional `status_code` (603 when omitted). Both need `Authorization: Bearer <key>` and return 200
 * with an empty body. Errors are `{"error": {"message", "type", "param", "code"}}`, as OpenAI sends them.
 */
export interface FakeOpenai extends FakeApiServer {
  /** The API key the fake accepts. */
  readonly apiKey: string;
  /** Accepted and rejected calls, in order. */
  readonly answers: readonly CallAnswer[];
  /** Makes later accepts and rejects of a call fail with 404, as when the caller has hung up. */
  endCall(callId: string): void;
}

export interface CallAnswer {
  readonly callId: string;
  readonly action: "accept" | "reject";
  /** The request body: the session settings of an accept, `{status_code}` of a reject. */
  readonly body: Record<string, unknown>;
}

/** Builds an OpenAI error reply, such as `openaiError(404, "Call not found.", "not_found")`. */
export function openaiError(status: number, message: string, code: string | null = null): FakeReply {
  return {
    status,
    body: { error: { message, type: "invalid_request_error", param: null, code } },
  };
}

/** Starts a fake OpenAI API; configure its `url` as OPENAI_API_URL and its `apiKey` as OPENAI_API_KEY. */
export async function startFakeOpenai(options: { apiKey?: string } = {}): Promise<FakeOpenai> {
  const apiKey = options.apiKey ?? `sk-test-${crypto.randomUUID().replaceAll("-", "")}`;
  const answers: CallAnswer[] = [];
  const endedCalls = new Set<string>();

  const answer = (request: RecordedRequest, callId: string, action: CallAnswer["action"]): FakeReply => {
    if (endedCalls.has(callId)) {
      return openaiError(404, `Call ${callId} not found.`, "not_found");
    }
    const body = request.body === "" && action === "reject" ? {} : request.json;
    if (!isJsonObject(body)) {
      return openaiError(400, "The request body must be a JSON object.");
    }
    if (action === "accept" && body.type !== "realtime") {
      return openaiError(400, `Invalid value for 'type': expected 'realtime', got ${JSON.stringify(body.type)}.`);
    }
    if (action === "reject" && body.status_code !== undefined && !Number.isInteger(body.status_code)) {
      return openaiError(400, "Invalid value for 'status_code': expected an integer.");
    }
    answers.push({ callId, action, body });
    return { status: 200 };
  };

  const server = await startFakeApiServer((request) => {
    if (bearerToken(request) !== apiKey) {
      return openaiError(401, "Incorrect API key provided.", "invalid_api_key");
    }
    const accepted = pathParameter(request, /^\/realtime\/calls\/([^/]+)\/accept$/);
    const rejected = pathParameter(request, /^\/realtime\/calls\/([^/]+)\/reject$/);
    if (request.method === "POST" && accepted !== null) {
      return answer(request, accepted, "accept");
    }
    if (request.method === "POST" && rejected !== null) {
      return answer(request, rejected, "reject");
    }
    return openaiError(404, `Invalid URL (${request.method} ${request.path})`);
  });

  return {
    ...server,
    apiKey,
    answers,
    endCall(callId) {
      endedCalls.add(callId);
    },
    reset() {
      server.reset();
      answers.length = 0;
      endedCalls.clear();
    },
  };
}
