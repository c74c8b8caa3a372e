/** The ERIS client: the signed receipt goes unchanged, keyed by its id; 409 (already stored) counts as stored. */
import { createErisClient } from '../../activities/clients/eris-client';
import { createServiceClient } from '../../lib/clients/service-client';
import type { Receipt } from '../../domain/model/receipt';
import { startFakeService, type FakeService } from '../support/fake-service';

let eris: FakeService;
beforeEach(async () => {
  eris = await startFakeService();
});
afterEach(async () => {
  await eris.close();
});
const client = () => createErisClient(createServiceClient({ name: 'eris', baseUrl: eris.url, timeoutMs: 300, serviceToken: 'svc' }));
const receipt: Receipt = {
  receipt_id: 'rcpt_1', tenant_id: 't1', decision_id: 'dec_1', kind: 'decision', payload: { outcome: 'shown' },
  payload_sha256: 'ab', prev_receipt_hash: null, created_at: '2026-01-01T00:00:00.000Z', key_id: 'k1', signature: 'sig',
};

test('when a receipt is submitted, then it is posted as is with its id as Idempotency-Key', async () => {
  eris.setHandler(() => ({ status: 201, body: { stored: true } }));
  await client().submitReceipt(receipt);
  expect(eris.callsTo('/v1/eris/receipts')).toHaveLength(1);
  expect(eris.calls[0].body).toEqual(receipt);
  expect(eris.calls[0].headers['idempotency-key']).toBe('rcpt_1');
});

test('when ERIS answers 409 (it holds this receipt already), then the submission counts as stored', async () => {
  eris.setHandler(() => ({ status: 409, body: {} }));
  await expect(client().submitReceipt(receipt)).resolves.toBeUndefined();
});

test("when ERIS answers 503 or hangs past the client's timeout, then the submission fails with that kind", async () => {
  eris.setHandler(() => ({ status: 503, body: {} }));
  await expect(client().submitReceipt(receipt)).rejects.toMatchObject({ kind: 'http', status: 503 });
  eris.setHandler(() => ({ hang: true }));
  await expect(client().submitReceipt(receipt)).rejects.toMatchObject({ kind: 'timeout' });
});
