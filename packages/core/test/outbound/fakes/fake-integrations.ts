import type { IntegrationSettings } from "../../../src";
import { type FakeMercury, startFakeMercury } from "./fake-mercury";
import { type FakeOpenai, startFakeOpenai } from "./fake-openai";
import { type FakeResend, startFakeResend } from "./fake-resend";

/** The three fake integration APIs and the settings that point the delivery engine at them. */
export interface FakeIntegrations {
  readonly resend: FakeResend;
  readonly mercury: FakeMercury;
  readonly openai: FakeOpenai;
  /** Base URLs and credentials of the fakes, with `emailFrom` as the sender. */
  readonly settings: IntegrationSettings;
  /** Resets every fake: requests, queued replies and stored state. */
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a fake Resend, Mercury and OpenAI API on loopback. The caller stops them. */
export async function startFakeIntegrations(options: { emailFrom?: string } = {}): Promise<FakeIntegrations> {
  const [resend, mercury, openai] = await Promise.all([startFakeResend(), startFakeMercury(), startFakeOpenai()]);
  return {
    resend,
    mercury,
    openai,
    settings: {
      resend: { apiUrl: resend.url, apiKey: resend.apiKey, from: options.emailFrom ?? "Basalt <hello@basalt.test>" },
      mercury: { apiUrl: mercury.url, apiToken: mercury.apiToken },
      openai: { apiUrl: openai.url, apiKey: openai.apiKey },
    },
    reset() {
      resend.reset();
      mercury.reset();
      openai.reset();
    },
    async stop() {
      await Promise.all([resend.stop(), mercury.stop(), openai.stop()]);
    },
  };
}
