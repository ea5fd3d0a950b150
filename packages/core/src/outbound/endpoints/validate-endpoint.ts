import { type OutboundEventType, outboundEventTypes } from "@basalt/db";
import { InvalidInputError } from "../../errors";
import { checkEndpointUrl } from "../http/url-policy";

/** Checks an endpoint URL as it is saved: HTTPS only, and no host or address in a blocked range. */
export function validateEndpointUrl(url: string, allowLoopback: boolean): string {
  const checked = checkEndpointUrl(url, { allowLoopback });
  if (!checked.ok) {
    throw new InvalidInputError(checked.message);
  }
  return checked.url.toString();
}

export function validateEventTypes(types: readonly string[]): OutboundEventType[] {
  if (types.length === 0) {
    throw new InvalidInputError(`Subscribe the endpoint to at least one event type: ${outboundEventTypes.join(", ")}.`);
  }
  const unknown = types.filter((type) => !(outboundEventTypes as readonly string[]).includes(type));
  if (unknown.length > 0) {
    throw new InvalidInputError(`Unknown event type ${unknown.join(", ")}; use ${outboundEventTypes.join(", ")}.`);
  }
  return [...new Set(types)] as OutboundEventType[];
}
