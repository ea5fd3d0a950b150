import { z } from "zod";
import { identifier, providerTime } from "./common";

export const openaiResponseTypes = [
  "response.completed",
  "response.failed",
  "response.cancelled",
  "response.incomplete",
] as const;
export const openaiCallIncomingType = "realtime.call.incoming";

export const openaiResponseEvent = z.object({
  id: z.string().optional(),
  type: z.enum(openaiResponseTypes),
  created_at: providerTime.optional(),
  data: z.object({
    id: z.string().max(256).optional(),
    session_id: z.string().max(256).optional(),
    model: z.string().max(128).optional(),
    /** Milliseconds, stored in an int4 column, so at most 2^31 - 1. */
    duration_ms: z.number().int().min(0).max(2_147_483_647).optional(),
  }),
});
export type OpenaiResponseEvent = z.infer<typeof openaiResponseEvent>;

export const sipHeader = z.object({ name: z.string().max(256), value: z.string().max(4096) });

export const openaiCallIncomingEvent = z.object({
  id: z.string().optional(),
  type: z.literal(openaiCallIncomingType),
  created_at: providerTime.optional(),
  data: z.object({
    call_id: identifier,
    sip_headers: z.array(sipHeader).max(200).default([]),
  }),
});
export type OpenaiCallIncomingEvent = z.infer<typeof openaiCallIncomingEvent>;
