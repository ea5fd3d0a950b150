export { type Clock, ManualClock, systemClock } from "./clock";
export type { CoreContext } from "./context";
export { type DemoRecords, seedDemoRecords } from "./demo/seed-demo-records";
export type { CallAnswerJob } from "./effects/openai/route-incoming-call";
export {
  ConfigurationError,
  ConflictError,
  CoreError,
  describeError,
  FieldValidationError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
} from "./errors";
export { type FormInput, formInput } from "./forms/form-input";
export { consumeRateLimit, pruneRateLimits, type RateLimit } from "./forms/rate-limit";
export { createForm, type SavedForm, updateForm } from "./forms/save-form";
export { type SubmitFormInput, type SubmitFormResult, submitForm, utmParameters } from "./forms/submit-form";
export { newId } from "./ids";
export type { InboundRequest } from "./inbound/envelope";
export { type EventSummary, getEventSummary } from "./inbound/get-event";
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
export type { IntegrationSettings, OutboundContext } from "./outbound/context";
export { type ClaimedDelivery, claimDeliveries } from "./outbound/deliveries/claim-deliveries";
export { DeliveryWorker } from "./outbound/deliveries/delivery-worker";
export type { DeliveryOutcome } from "./outbound/deliveries/record-outcome";
export { retryDelivery, retryEndpointDeliveries } from "./outbound/deliveries/retry-delivery";
export { type CreatedEndpoint, createEndpoint } from "./outbound/endpoints/create-endpoint";
export { defaultEndpointSecretGraceHours, rotateEndpointSecret } from "./outbound/endpoints/rotate-endpoint-secret";
export { updateEndpoint } from "./outbound/endpoints/update-endpoint";
export type { MercuryJob } from "./outbound/executors/mercury-executor";
export type { EmailJob } from "./outbound/executors/resend-executor";
export { sendOutbound } from "./outbound/http/safe-fetch";
export type { OutboundHttpOptions, OutboundRequest, OutboundResult, Resolver } from "./outbound/http/types";
export { checkAddress, checkEndpointUrl } from "./outbound/http/url-policy";
export { Outbox, urgentPriority } from "./outbound/outbox/outbox";
export {
  callAnswerRetryDelaysMs,
  type DeliverySettings,
  defaultDeliveryRetryDelaysMs,
  defaultDeliverySettings,
  deliveryRetryDelayMs,
  parseRetryAfter,
} from "./outbound/settings";
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
