import { loadConfig } from '../../config/config';
import { signalConsumerConcurrency } from '../../workers/signal-bus-factory';

describe("the signal consumer's concurrency", () => {
  it('when BUS_CONSUMER_CONCURRENCY is unset, then it is half the Updates one process may keep in flight over its shards', () => {
    const config = loadConfig({ DECISION_SHARDS: '8', DECISION_MAX_IN_FLIGHT_PER_SHARD: '8' });
    expect(config.BUS_CONSUMER_CONCURRENCY).toBeUndefined();
    expect(signalConsumerConcurrency(config)).toBe(32);
    expect(signalConsumerConcurrency(loadConfig({ DECISION_SHARDS: '1', DECISION_MAX_IN_FLIGHT_PER_SHARD: '2' }))).toBe(8);
  });

  it('when DECISION_MAX_IN_FLIGHT_PER_SHARD is above the server limit of 10, then the configuration is refused naming it', () => {
    expect(() => loadConfig({ DECISION_MAX_IN_FLIGHT_PER_SHARD: '11' })).toThrow(/DECISION_MAX_IN_FLIGHT_PER_SHARD/);
  });
});
