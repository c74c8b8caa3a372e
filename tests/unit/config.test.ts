import { ConfigError, loadConfig } from '../../config/config';

describe('loadConfig', () => {
  it('when nothing is set, then the embedded defaults are chosen', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.TEMPORAL_ADDRESS).toBeUndefined();
    expect(c.TEMPORAL_DEV_PORT).toBe(7233);
    expect(c.TEMPORAL_UI_PORT).toBe(8233);
    expect(c.dataDir).toMatch(/\.data$/);
  });

  it('when a variable is empty, then it counts as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '  ' }).DATABASE_URL).toBeUndefined();
  });

  it('when a variable with a default is set to nothing, then it takes its default (not the 0 an empty string coerces to)', () => {
    const c = loadConfig({ PORT: '', POLICY_CACHE_TTL_MS: ' ', IAM_CACHE_TTL_MS: '', TEMPORAL_EAGER_START: '', RABBITMQ_URL: '' });
    expect(c.PORT).toBe(8080);
    expect(c.POLICY_CACHE_TTL_MS).toBe(60_000);
    expect(c.IAM_CACHE_TTL_MS).toBe(15_000);
    expect(c.TEMPORAL_EAGER_START).toBe(true);
    expect(c.RABBITMQ_URL).toBeUndefined();
  });

  it('when several variables are bad, then start-up fails naming each of them', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', AUTH_JWT_SECRET: 'short', RUN_WORKER: 'maybe' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const message = (err as Error).message;
      for (const name of ['PORT', 'DATABASE_URL', 'AUTH_JWT_SECRET', 'RUN_WORKER']) expect(message).toContain(name);
    }
  });

  it('when production addresses are given, then they are used as they are', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/mmm', REDIS_URL: 'redis://cache:6379', TEMPORAL_ADDRESS: 'temporal:7233', RUN_WORKER: 'false' });
    expect(c.DATABASE_URL).toBe('postgres://u:p@db:5432/mmm');
    expect(c.REDIS_URL).toBe('redis://cache:6379');
    expect(c.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(c.RUN_WORKER).toBe(false);
  });
});

it('when IAM_BASE_URL is set, then it is kept (tokens go to IAM); empty means unset and a bad URL is refused by name', () => {
  expect(loadConfig({ IAM_BASE_URL: 'http://iam.internal' }).IAM_BASE_URL).toBe('http://iam.internal');
  expect(loadConfig({ IAM_BASE_URL: '' }).IAM_BASE_URL).toBeUndefined();
  expect(() => loadConfig({ IAM_BASE_URL: 'not a url' })).toThrow(/IAM_BASE_URL/);
});

describe('loadConfig, the signal bus', () => {
  it('when nothing about the bus is set, then it is Redis Streams with 5 tries before the dead letter and the ide surface by default', () => {
    const c = loadConfig({});
    expect(c.BUS_TYPE).toBe('redis');
    expect(c.BUS_MAX_DELIVERIES).toBe(5);
    expect(c.BUS_CONSUMER_GROUP).toBe('mmm-engine');
    expect(c.SIGNAL_CONSUMER_DEFAULT_SURFACES).toEqual(['ide']);
  });

  it('when BUS_TYPE=rabbitmq has no RABBITMQ_URL, or a bus setting is bad, then start-up fails naming the variable', () => {
    expect(() => loadConfig({ BUS_TYPE: 'rabbitmq' })).toThrow(/RABBITMQ_URL/);
    expect(() => loadConfig({ BUS_TYPE: 'nats' })).toThrow(/BUS_TYPE/);
    expect(() => loadConfig({ BUS_TYPE: 'rabbitmq', RABBITMQ_URL: 'http://x' })).toThrow(/RABBITMQ_URL/);
    expect(() => loadConfig({ SIGNAL_CONSUMER_DEFAULT_SURFACES: 'ide,desk' })).toThrow(/SIGNAL_CONSUMER_DEFAULT_SURFACES/);
    expect(() => loadConfig({ BUS_MAX_DELIVERIES: '0' })).toThrow(/BUS_MAX_DELIVERIES/);
    expect(loadConfig({ BUS_TYPE: 'rabbitmq', RABBITMQ_URL: 'amqp://u:p@mq:5672' }).RABBITMQ_URL).toBe('amqp://u:p@mq:5672');
    expect(loadConfig({ SIGNAL_CONSUMER_DEFAULT_SURFACES: 'ide, pr' }).SIGNAL_CONSUMER_DEFAULT_SURFACES).toEqual(['ide', 'pr']);
  });

  it('when BUS_TYPE=kafka names brokers, SASL and TLS, then they are parsed; without brokers the embedded broker is meant', () => {
    const c = loadConfig({
      BUS_TYPE: 'kafka',
      KAFKA_BROKERS: 'k1.internal:9093, k2.internal:9093',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'mmm',
      KAFKA_SASL_PASSWORD: 'secret',
      KAFKA_SSL: 'true',
      KAFKA_REPLICATION_FACTOR: '3',
    });
    expect(c.BUS_TYPE).toBe('kafka');
    expect(c.KAFKA_BROKERS).toEqual(['k1.internal:9093', 'k2.internal:9093']);
    expect(c.KAFKA_SASL_MECHANISM).toBe('SCRAM-SHA-512');
    expect(c.KAFKA_SSL).toBe(true);
    expect(c.KAFKA_REPLICATION_FACTOR).toBe(3);
    expect(c.KAFKA_TOPIC_PARTITIONS).toBe(6);
    expect(loadConfig({ BUS_TYPE: 'kafka' }).KAFKA_BROKERS).toBeUndefined();
  });

  it('when a Kafka setting is bad, then start-up fails naming the variable', () => {
    expect(() => loadConfig({ KAFKA_BROKERS: 'k1.internal' })).toThrow(/KAFKA_BROKERS/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(/KAFKA_SASL_MECHANISM/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'PLAIN' })).toThrow(/KAFKA_SASL_USERNAME/);
    expect(() => loadConfig({ KAFKA_TOPIC_PARTITIONS: '0' })).toThrow(/KAFKA_TOPIC_PARTITIONS/);
  });
});

describe('loadConfig, the PostgreSQL pool', () => {
  it('when nothing is set, then the pool follows the storage requirement: 20-200 connections, idle 600 s, connect 30 s, pre-ping', () => {
    const c = loadConfig({});
    expect([c.DATABASE_POOL_MIN, c.DATABASE_POOL_MAX]).toEqual([20, 200]);
    expect(c.DATABASE_POOL_IDLE_MS).toBe(600_000);
    expect(c.DATABASE_CONNECT_TIMEOUT_MS).toBe(30_000);
    expect(c.DATABASE_POOL_PING_AFTER_IDLE_MS).toBe(1_000);
  });

  it.each([
    ['DATABASE_POOL_MIN', '-1'],
    ['DATABASE_POOL_MIN', '201'],
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_POOL_MAX', '500'],
    ['DATABASE_POOL_MAX', '2.5'],
    ['DATABASE_POOL_IDLE_MS', '10'],
    ['DATABASE_POOL_IDLE_MS', '86400000'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '0'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '600000'],
    ['DATABASE_POOL_PING_AFTER_IDLE_MS', '-5'],
    ['DATABASE_POOL_PING_AFTER_IDLE_MS', 'often'],
  ])('when %s is %s, then start-up fails naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('when the minimum is above the maximum, then start-up fails naming both', () => {
    expect(() => loadConfig({ DATABASE_POOL_MIN: '30', DATABASE_POOL_MAX: '10' })).toThrow(/DATABASE_POOL_MIN.*DATABASE_POOL_MAX/);
    expect(loadConfig({ DATABASE_POOL_MIN: '0', DATABASE_POOL_MAX: '10' }).DATABASE_POOL_MAX).toBe(10);
  });
});

it('when HTTP_SHUTDOWN_GRACE_MS is unset, then stopping waits up to 15 s for requests in flight; out of 0-120 s it is refused by name', () => {
  expect(loadConfig({}).HTTP_SHUTDOWN_GRACE_MS).toBe(15_000);
  expect(loadConfig({ HTTP_SHUTDOWN_GRACE_MS: '0' }).HTTP_SHUTDOWN_GRACE_MS).toBe(0);
  expect(() => loadConfig({ HTTP_SHUTDOWN_GRACE_MS: '-1' })).toThrow(/HTTP_SHUTDOWN_GRACE_MS/);
  expect(() => loadConfig({ HTTP_SHUTDOWN_GRACE_MS: '600000' })).toThrow(/HTTP_SHUTDOWN_GRACE_MS/);
});
