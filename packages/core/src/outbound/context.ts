import type { SuccessWriter } from "@basalt/db";
import type { CoreContext } from "../context";
import type { SecretCipher } from "../secrets/cipher";
import type { OutboundHttpOptions } from "./http/types";
import type { DeliverySettings } from "./settings";

/** Base URLs and credentials of the integrations; one without credentials is skipped, not failed. */
export interface IntegrationSettings {
  readonly resend: { readonly apiUrl: string; readonly apiKey: string | undefined; readonly from: string | undefined };
  readonly mercury: { readonly apiUrl: string; readonly apiToken: string | undefined };
  readonly openai: { readonly apiUrl: string; readonly apiKey: string | undefined };
}

/** The context of the delivery engine and of endpoint management. */
export interface OutboundContext extends CoreContext {
  /** Encrypts endpoint signing secrets; null when SECRETS_ENCRYPTION_KEY is not configured. */
  readonly cipher: SecretCipher | null;
  readonly http: OutboundHttpOptions;
  readonly integrations: IntegrationSettings;
  readonly deliverySettings: DeliverySettings;
  /** Records successful attempts in bulk; without it, Drizzle's builder writes them. */
  readonly recordSuccesses?: SuccessWriter;
}
