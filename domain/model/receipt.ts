import { z } from 'zod';
import { text, timestampSchema } from './common';

export const receiptSchema = z.object({
  receipt_id: text(),
  tenant_id: text(),
  decision_id: text(),
  kind: text(),
  payload: z.record(text(), z.unknown()),
  payload_sha256: text(),
  prev_receipt_hash: text().nullable(),
  created_at: timestampSchema,
  key_id: text(),
  signature: text(),
});
export type Receipt = z.infer<typeof receiptSchema>;
export type UnsignedReceipt = Omit<Receipt, 'signature'>;

export const receiptKeysSchema = z.object({
  keys: z.array(z.object({ key_id: text(), algorithm: z.literal('Ed25519'), public_key: text(), status: text() })),
});
