import { z } from 'zod';

export const receiptSchema = z.object({
  receipt_id: z.string(),
  tenant_id: z.string(),
  decision_id: z.string(),
  kind: z.string(),
  payload: z.record(z.string(), z.unknown()),
  payload_sha256: z.string(),
  prev_receipt_hash: z.string().nullable(),
  created_at: z.string(),
  key_id: z.string(),
  signature: z.string(),
});
export type Receipt = z.infer<typeof receiptSchema>;
export type UnsignedReceipt = Omit<Receipt, 'signature'>;

export const receiptKeysSchema = z.object({
  keys: z.array(z.object({ key_id: z.string(), algorithm: z.literal('Ed25519'), public_key: z.string(), status: z.string() })),
});
