import { z } from "zod";
import { decimalAmount, identifier, providerTime } from "./common";

export const surgePaymentTypes = ["payment.confirmed", "payment.succeeded"] as const;
export const surgeReceiptType = "receipt.status_updated";

export const surgePaymentEvent = z.object({
  type: z.enum(surgePaymentTypes),
  created_at: providerTime.optional(),
  data: z.object({
    /** Surge's payment id: the deduplication key, shared by an event and its alias. */
    id: identifier,
    /** Our invoice id. */
    external_id: identifier,
    amount: decimalAmount,
    currency: identifier,
    network: z.string().max(64).optional(),
    tx_hash: z.string().max(256).optional(),
  }),
});
export type SurgePaymentEvent = z.infer<typeof surgePaymentEvent>;

/** BasaltSURGE's receipts webhook, which reports a receipt's status by the payment (receipt) id. */
export const surgeReceiptEvent = z.object({
  event: z.literal(surgeReceiptType),
  receiptId: identifier,
  status: identifier.transform((status) => status.toLowerCase()),
  amount: decimalAmount.optional(),
  currency: identifier.optional(),
  transactionHash: z.string().max(256).optional(),
  network: z.string().max(64).optional(),
  timestamp: providerTime.optional(),
  updatedAt: providerTime.optional(),
});
export type SurgeReceiptEvent = z.infer<typeof surgeReceiptEvent>;

/** Receipt statuses that mean the invoice is paid; others are recorded only. */
export const paidReceiptStatuses = new Set(["paid", "reconciled"]);
