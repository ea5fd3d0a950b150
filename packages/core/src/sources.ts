import type { EventSource } from "@basalt/db";
import type { SecretKind } from "./signatures/secret-format";

export type { EventSource } from "@basalt/db";
export { eventSources } from "@basalt/db";

export interface SourceDefinition {
  readonly source: EventSource;
  readonly displayName: string;
  readonly route: string;
  readonly secretKind: SecretKind;
  /** Environment variables that hold the source's secret, in order of precedence. */
  readonly secretEnv: readonly string[];
  /** Whether the source may post unsigned events while it has no secret at all. */
  readonly allowsUnsigned: boolean;
}

export const sourceDefinitions: Readonly<Record<EventSource, SourceDefinition>> = {
  surge: {
    source: "surge",
    displayName: "BasaltSURGE payments",
    route: "/api/webhooks/surge",
    secretKind: "hex",
    secretEnv: ["SURGE_WEBHOOK_SECRET"],
    allowsUnsigned: false,
  },
  basaltecho: {
    source: "basaltecho",
    displayName: "BasaltECHO voice",
    route: "/api/voice/engage/webhook",
    secretKind: "hex",
    secretEnv: ["BASALTECHO_WEBHOOK_SECRET"],
    allowsUnsigned: true,
  },
  resend: {
    source: "resend",
    displayName: "Resend email",
    route: "/api/resend/webhook",
    secretKind: "whsec",
    secretEnv: ["RESEND_WEBHOOK_SECRET"],
    allowsUnsigned: false,
  },
  openai: {
    source: "openai",
    displayName: "Azure AI / OpenAI Realtime",
    route: "/api/azure/webhook",
    secretKind: "whsec",
    secretEnv: ["OPENAI_WEBHOOK_SECRET", "AZURE_OPENAI_WEBHOOK_SECRET"],
    allowsUnsigned: false,
  },
};
