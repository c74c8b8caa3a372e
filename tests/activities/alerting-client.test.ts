/** The alerting client: the rendered alert is posted with its id as idempotency key; non-2xx fails. */
import { createAlertingClient } from '../../activities/clients/alerting-client';
import { createServiceClient } from '../../lib/clients/service-client';
import { startFakeService, type FakeService } from '../support/fake-service';

let alerting: FakeService;
beforeEach(async () => {
  alerting = await startFakeService();
});
afterEach(async () => {
  await alerting.close();
});
const client = () => createAlertingClient(createServiceClient({ name: 'alerting', baseUrl: alerting.url, timeoutMs: 300 }));
const alert = { alert_id: 'al_1', tenant_id: 't1', decision_id: 'dec_1', title: 'Build failures', body: '3 builds failed' };

test('when an alert is sent, then it is posted to /v1/alerts with its id as Idempotency-Key', async () => {
  alerting.setHandler(() => ({ status: 202 }));
  await client().sendAlert(alert);
  expect(alerting.callsTo('/v1/alerts')[0].body).toEqual(alert);
  expect(alerting.calls[0].headers['idempotency-key']).toBe('al_1');
});

test('when alerting answers 500 or drops the connection, then the send fails with the kind', async () => {
  alerting.setHandler(() => ({ status: 500 }));
  await expect(client().sendAlert(alert)).rejects.toMatchObject({ kind: 'http', status: 500 });
  alerting.setHandler(() => ({ destroy: true }));
  await expect(client().sendAlert(alert)).rejects.toMatchObject({ kind: 'network' });
});
