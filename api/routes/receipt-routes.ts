import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { receiptKeysSchema, receiptSchema } from '../../domain/model/receipt';
import type { ReceiptLedger } from '../../db/repositories/receipt-ledger';
import { ADMINS } from '../authorization';
import { defineRoute } from '../route';

export function receiptRoutes(deps: { ledger: ReceiptLedger }) {
  return [
    // Declared before /receipts/:receipt_id so "keys" is never read as a receipt id.
    defineRoute({
      method: 'get',
      path: '/v1/mmm/receipts/keys',
      summary: 'Public keys to verify receipts offline (raw 32-byte Ed25519 keys, base64url)',
      tag: 'receipts',
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
      // A decision's receipt says which nudges an actor was shown and why: the same readers as the decision itself.
      // Receipts no actor owns (a UBI erasure names the actor only by a hash) are for the roles alone.
      auth: { roles: ['service', 'approver', ...ADMINS], tenant: 'token', self: 'resource' },
      params: z.object({ receipt_id: idSchema }),
      resource: {
        load: ({ params, auth }) => deps.ledger.get(auth.tenant_id, params.receipt_id),
        owner: (r) => (typeof r.payload.actor_id === 'string' ? r.payload.actor_id : null),
      },
      response: receiptSchema,
      async handler({ resource: receipt }) {
        return { body: receipt };
      },
    }),
  ];
}
