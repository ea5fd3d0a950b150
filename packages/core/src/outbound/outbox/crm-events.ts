import type { OutboundEventType } from "@basalt/db";

/**
 * Builds the body of a CRM event for customer endpoints, in the Standard Webhooks shape:
 * `{"type", "timestamp", "data"}` with snake_case fields. `form.submitted` is the exception: its body is
 * exactly the public developer page's, built by the form submission.
 */
export function crmEventPayload(
  type: Exclude<OutboundEventType, "form.submitted">,
  occurredAt: Date,
  data: Record<string, unknown>,
): { type: string; timestamp: string; data: Record<string, unknown> } {
  return { type, timestamp: occurredAt.toISOString(), data };
}
