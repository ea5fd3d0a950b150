import type { DeliveryTarget } from "@basalt/db";
import { endpointExecutor } from "./endpoint-executor";
import type { DeliveryExecutor } from "./executor";
import { mercuryExecutor } from "./mercury-executor";
import { openaiCallExecutor } from "./openai-call-executor";
import { resendExecutor } from "./resend-executor";

export const deliveryExecutors: Readonly<Record<DeliveryTarget, DeliveryExecutor>> = {
  endpoint: endpointExecutor,
  resend_email: resendExecutor,
  mercury_invoice: mercuryExecutor,
  openai_call: openaiCallExecutor,
};
