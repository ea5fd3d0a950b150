export { type Clock, ManualClock, systemClock } from "./clock";
export type { CoreContext } from "./context";
export { type DemoRecords, seedDemoRecords } from "./demo/seed-demo-records";
export {
  ConfigurationError,
  ConflictError,
  CoreError,
  describeError,
  InvalidInputError,
  NotFoundError,
} from "./errors";
export { newId } from "./ids";
export type { InboundRequest } from "./inbound/envelope";
export { ianaTimeZone } from "./inbound/payloads/common";
export {
  type ReceiveContext,
  type ReceiveInput,
  type ReceiveOutcome,
  receiveWebhook,
} from "./inbound/receive-webhook";
export { EventWriter, type StoredEvent } from "./inbound/store-event";
export { type Logger, silentLogger } from "./logger";
export { type BookMeetingInput, bookMeeting } from "./meetings/book-meeting";
export {
  defaultMeetingMinutes,
  type Meeting,
  type ScheduleMeetingInput,
  type ScheduleMeetingResult,
  scheduleMeeting,
} from "./meetings/schedule-meeting";
export { claimEvents, releaseEvents } from "./processing/claim-events";
export { EventWorker } from "./processing/event-worker";
export { type ProcessOutcome, processEvents } from "./processing/process-events";
export { retryEvent } from "./processing/retry-event";
export { defaultRetryDelaysMs, defaultWorkerSettings, retryDelayMs, type WorkerSettings } from "./processing/settings";
export { buildSampleEvent, type SampleEvent, sampleEventTypes, signSampleEvent } from "./samples/sample-events";
export { checkStoredSecrets } from "./secrets/check-stored-secrets";
export { decodeKey as decodeEncryptionKey, SecretCipher } from "./secrets/cipher";
export type { SecretContext } from "./secrets/context";
export { type CreatedSecret, createSecret, secretFingerprint } from "./secrets/create-secret";
export { revokeSecret } from "./secrets/revoke-secret";
export { defaultRotationGraceHours, maxExpiringSecretsPerSource, rotateSecret } from "./secrets/rotate-secret";
export { SecretStore } from "./secrets/secret-store";
export { parseHexSignature, signHex, verifyHexSignature } from "./signatures/hex-hmac";
export type { SignatureFailureReason, SigningKey, VerificationResult } from "./signatures/result";
export {
  generateSecret,
  minHexSecretLength,
  minWhsecKeyBytes,
  parseHexSecret,
  parseSecret,
  parseWhsecSecret,
  type SecretKind,
} from "./signatures/secret-format";
export {
  signStandardWebhook,
  standardWebhookHeaderNames,
  svixHeaderNames,
  verifyStandardWebhook,
} from "./signatures/standard-webhooks";
export { type EventSource, eventSources, type SourceDefinition, sourceDefinitions } from "./sources";
