import type { Transaction } from "@basalt/db";
import type { OutboundContext } from "../context";
import type { ClaimedDelivery } from "../deliveries/claim-deliveries";
import type { OutboundResult } from "../http/types";

/** Record of one attempt's request and response, for the attempt log. */
export interface AttemptRecord {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly statusCode: number | null;
  /** The first 4 KiB of the response body. */
  readonly responseBody: string | null;
  readonly error: string | null;
}

/** Result of an attempt, as the engine records it. */
export type ExecutorResult =
  | { kind: "succeeded"; attempt: AttemptRecord | null; reason?: string; data?: Record<string, unknown> }
  | {
      kind: "failed";
      attempt: AttemptRecord | null;
      error: string;
      /** Wait the receiver asked for with Retry-After, already clamped to the settings' limits. */
      retryAfterMs?: number | null;
      /** No retry can help, such as an `http://` URL or a 410 Gone. */
      permanent?: boolean;
      /** Disables the endpoint with this reason. */
      disableEndpoint?: string;
    }
  /** Not sent on purpose, such as an integration without credentials. */
  | { kind: "skipped"; reason: string }
  /** Not sent because the endpoint was disabled first. */
  | { kind: "cancelled"; reason: string };

/** Sends one kind of delivery. The hooks run in the transaction that records the outcome. */
export interface DeliveryExecutor {
  send(ctx: OutboundContext, job: ClaimedDelivery): Promise<ExecutorResult>;
  /** Overrides the retry schedule, for jobs that are useless after a short while. */
  readonly retryDelaysMs?: readonly number[];
  onSucceeded?(
    tx: Transaction,
    ctx: OutboundContext,
    job: ClaimedDelivery,
    data: Record<string, unknown>,
  ): Promise<void>;
  /** Runs when the delivery ends without success: failed for good, skipped or cancelled. */
  onGaveUp?(
    tx: Transaction,
    ctx: OutboundContext,
    job: ClaimedDelivery,
    status: "failed" | "skipped" | "cancelled",
  ): Promise<void>;
}

/** Turns the result of an HTTP request into the attempt log record. */
export function attemptRecord(startedAt: Date, result: OutboundResult): AttemptRecord {
  if (result.kind === "response") {
    return {
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.status,
      responseBody: result.bodyPrefix,
      error: null,
    };
  }
  return { startedAt, durationMs: result.durationMs, statusCode: null, responseBody: null, error: result.message };
}
