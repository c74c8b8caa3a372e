import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { receiptKeysSchema, receiptSchema } from '../../domain/model/receipt';
import type { ReceiptLedger } from '../../db/repositories/receipt-ledger';
import { defineRoute } from '../route';

export function receiptRoutes(deps: { ledger: ReceiptLedger }) {
  return [
    // Declared before /receipts/:receipt_id so "keys" is never read as a receipt id.
    defineRoute({
      method: 'get',
      path: '/v1/mmm/receipts/keys',
      summary: 'Public keys to verify receipts offline (raw 32-byte Ed25519 keys, base64url)',
      tag: 'receipts',
      access: 'anyone',
      public: true,
      response: receiptKeysSchema,
      async handler() {
        return { body: { keys: await deps.ledger.publicKeys() }, headers: { 'Cache-Control': 'public, max-age=300' } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/mmm/receipts/:receipt_id',
      summary: 'The signed receipt',
      tag: 'receipts',
      access: 'any token of the tenant',
      params: z.object({ receipt_id: idSchema }),
      response: receiptSchema,
      async handler({ params, auth }) {
        return { body: await deps.ledger.get(auth.tenant_id, params.receipt_id) };
      },
    }),
  ];
}
