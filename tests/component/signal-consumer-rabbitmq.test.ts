/**
 * The same path as signal-consumer.test.ts with BUS_TYPE=rabbitmq: the app's consumer on a private rabbitmq-server,
 * the signal published by a separate RabbitMQ publisher → one decision per surface, also when delivered twice.
 */
import amqp from 'amqplib';
import { createRabbitSignalBus } from '../../activities/bus/rabbitmq-signal-bus';
import type { SignalBus } from '../../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { behaviouralSignal, waitFor } from '../support/bus-contract';
import { useTestApp } from '../support/harness';
import { useRabbitMq } from '../support/rabbitmq';
import { newTenant, publishPlaybook } from './fixtures';

const rabbit = useRabbitMq();
const app = useTestApp(() => ({ BUS_TYPE: 'rabbitmq', RABBITMQ_URL: rabbit.url, BUS_TOPIC_PREFIX: '', BUS_MAX_DELIVERIES: '3' }));

let publisher: SignalBus;
beforeAll(() => {
  publisher = createRabbitSignalBus({ connect: () => amqp.connect(rabbit.url) }, { topicPrefix: '', maxDeliveries: 3, concurrency: 4 });
});
afterAll(async () => {
  await publisher?.close();
});

test('when a signal arrives over RabbitMQ, twice, then the engine makes one decision for the playbook it triggers', async () => {
  const fx = newTenant(app, 'rmq');
  const { playbook_id } = await publishPlaybook(app, fx.admin, {
    name: 'Flaky tests mirror',
    category: 'test_health',
    triggers: [{ source: 'ubi', kind: 'test_flake_rate_spike', min_severity: 'high', surfaces: ['ci'] }],
    actions: [{ type: 'mirror', title: 'Flaky tests', body: 'Flake rate {{signal.payload.value}} in this window.', surfaces: ['ci'], cooldown_minutes: 0 }],
  });
  const signal = behaviouralSignal({ tenant_id: fx.tenant, signal_type: 'test_flake_rate_spike', dimension: 'test_flake_rate', severity: 'high', value: 0.3 });
  await publisher.publish([signal]);
  await publisher.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, fx.tenant, signal);

  const decisions = async () => {
    const [rows] = await app.runtime.repos.sequelize.query('SELECT decision_id FROM decisions WHERE tenant_id = :t', { replacements: { t: fx.tenant } });
    return rows as Array<{ decision_id: string }>;
  };
  const [row] = await waitFor('the decision', async () => {
    const r = await decisions();
    return r.length ? r : undefined;
  });
  // Both deliveries handled and acknowledged (this app is the broker's only consumer). They may run at once: the
  // second then joins the first one's workflow rather than replaying a stored decision; either way, one decision.
  const bothHandled = async () => {
    const text = String((await app.request('GET', '/metrics')).body);
    return new RegExp(`^mmm_bus_messages_consumed_total\\{topic="${BEHAVIOURAL_SIGNALS_TOPIC}"\\} 2$`, 'm').test(text);
  };
  await waitFor('both deliveries handled', bothHandled);
  expect(await decisions()).toHaveLength(1);
  const res = await app.request('GET', `/v1/mmm/decisions/${row.decision_id}`, { token: fx.service });
  expect(res.body.actions).toEqual([expect.objectContaining({ playbook_id, payload: expect.objectContaining({ body: 'Flake rate 0.3 in this window.' }) })]);
  const ready = await app.request('GET', '/v1/mmm/ready');
  expect(ready.body.dependencies).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'bus', status: 'up', mode: 'rabbitmq' })]));
});
