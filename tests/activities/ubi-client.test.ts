/** The UBI client (UBI in another process): the recent-signals query, and only the fields context keeps. */
import { createServiceClient } from '../../lib/clients/service-client';
import { createUbiClient } from '../../activities/clients/ubi-client';
import { startFakeService, type FakeService } from '../support/fake-service';

let ubi: FakeService;
beforeEach(async () => {
  ubi = await startFakeService();
});
afterEach(async () => {
  await ubi.close();
});
const client = () => createUbiClient(createServiceClient({ name: 'ubi', baseUrl: ubi.url, timeoutMs: 300 }));
const signal = (i: number) => ({
  signal_id: `s${i}`, dimension: 'build', signal_type: 'anomaly', severity: 'high', score: 3.5, created_at: '2026-01-01T00:00:00.000Z',
  explanation: 'free text that context does not keep', baseline: { mean: 1 },
});

test('when recent signals are asked for, then tenant, actor and limit are in the query and only context fields are kept', async () => {
  ubi.setHandler(() => ({ body: { signals: [signal(1), signal(2)] } }));
  const signals = await client().recentSignals('t1', 'a 1', 10);
  expect(ubi.calls[0].url).toBe('/v1/ubi/signals/recent?tenant_id=t1&actor_id=a+1&limit=10');
  expect(ubi.calls[0].path).toBe('/v1/ubi/signals/recent');
  expect(signals).toEqual([1, 2].map((i) => ({ signal_id: `s${i}`, dimension: 'build', signal_type: 'anomaly', severity: 'high', score: 3.5, created_at: '2026-01-01T00:00:00.000Z' })));
});

test('when UBI answers without signals, then the call fails as invalid_response', async () => {
  ubi.setHandler(() => ({ body: { items: [] } }));
  await expect(client().recentSignals('t1', 'a1')).rejects.toMatchObject({ kind: 'invalid_response' });
});
