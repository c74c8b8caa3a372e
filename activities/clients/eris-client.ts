import type { Receipt } from '../../domain/model/receipt';
import { ServiceCallError, type ServiceClient } from '../../lib/clients/service-client';

export interface ErisClient {
  /** Resolves when ERIS has stored the receipt (2xx, or 409: it already holds this receipt id). */
  submitReceipt(receipt: Receipt): Promise<void>;
}

/**
 * `POST /v1/eris/receipts` with the signed receipt, unchanged (a changed byte would break its signature). The receipt
 * id is the idempotency key, so a retry after a lost answer is stored once.
 */
export function createErisClient(client: ServiceClient): ErisClient {
  return {
    async submitReceipt(receipt) {
      try {
        await client.request('POST', '/v1/eris/receipts', { body: receipt, idempotencyKey: receipt.receipt_id });
      } catch (err) {
        if (err instanceof ServiceCallError && err.kind === 'http' && err.status === 409) return;
        throw err;
      }
    },
  };
}
