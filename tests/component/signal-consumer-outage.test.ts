/**
 * Redis (and with it the bus) goes away and comes back empty while the app runs: ready shows the bus down without
 * taking the API out of service, and the consumer recreates its group and decides on signals published afterwards.
 */
import Redis from 'ioredis';
import { createRedisSignalBus } from '../../activities/bus/redis-signal-bus';
import type { SignalBus } from '../../activities/bus/signal-bus';
import { startRedisServer, type RedisServer } from '../../workers/embedded-redis';
import { behaviouralSignal, waitFor } from '../support/bus-contract';
import { useTestApp } from '../support/harness';
import { newTenant, publishPlaybook } from './fixtures';

let redis: RedisServer;
let publisher: SignalBus;
beforeAll(async () => {
  redis = await startRedisServer({});
  publisher = createRedisSignalBus(
    {
      connect: () => {
        const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
        r.on('error', () => undefined);
        return r;
      },
    },
    { topicPrefix: '', maxDeliveries: 3, concurrency: 4, maxLen: 1000, claimIdleMs: 500, blockMs: 200 },
  );
});
afterAll(async () => {
  await publisher?.close();
  await redis?.stop();
});

// Its own redis-server (no persistence), so stopping it breaks only this app.
const app = useTestApp(() => ({ REDIS_URL: redis.url, BUS_TOPIC_PREFIX: '', BUS_BLOCK_MS: '200' }));

it('when Redis restarts empty, then ready shows the bus down meanwhile and signals published afterwards are still decided', async () => {
  const fx = newTenant(app, 'outage');
  await publishPlaybook(app, fx.admin, {
    name: 'Context switching mirror',
    category: 'focus',
    triggers: [{ source: 'ubi', kind: 'context_switch_spike', surfaces: ['ide'] }],
    actions: [{ type: 'mirror', title: 'Context switches', body: '{{signal.payload.value}} repositories today.', cooldown_minutes: 0 }],
  });
  const decided = async (n: number) => {
    const [rows] = await app.runtime.repos.sequelize.query('SELECT decision_id FROM decisions WHERE tenant_id = :t', { replacements: { t: fx.tenant } });
    return rows.length === n;
  };
  const kind = { signal_type: 'context_switch_spike', dimension: 'context_switches' };
  await publisher.publish([behaviouralSignal({ tenant_id: fx.tenant, ...kind })]);
  await waitFor('the decision before the outage', () => decided(1));

  const port = Number(new URL(redis.url).port);
  await redis.stop();
  const during = await app.request('GET', '/v1/mmm/ready');
  expect(during.status).toBe(200);
  expect(during.body.dependencies.find((d: { name: string }) => d.name === 'bus')).toMatchObject({ status: 'down', required: false });

  redis = await startRedisServer({ port });
  await waitFor('the publisher reconnected', () => publisher.ping().then(() => true, () => undefined));
  await publisher.publish([behaviouralSignal({ tenant_id: fx.tenant, ...kind })]);
  await waitFor('the decision after the outage', () => decided(2), 30_000);
  const after = await app.request('GET', '/v1/mmm/ready');
  expect(after.body.dependencies.find((d: { name: string }) => d.name === 'bus')).toMatchObject({ status: 'up' });
});
