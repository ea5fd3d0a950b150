/** Why a request's signature was not accepted; each reason is also the error code of the 401 answer. */
export type SignatureFailureReason = "missing_signature" | "invalid_signature" | "timestamp_out_of_tolerance";

export type VerificationResult =
  | { ok: true; keyId: string }
  | { ok: false; reason: SignatureFailureReason; message: string };

/** A secret ready for HMAC: the key bytes and the id of the stored secret (or `env`) it came from. */
export interface SigningKey {
  readonly id: string;
  readonly key: Uint8Array;
}
