/**
 * The launchers behind the embedded defaults really start their servers, answer, keep data where promised and stop.
 * Everything runs on free ports in a throwaway folder, so it can run next to `npm start` or other test workers.
 */
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { Connection } from '@temporalio/client';
import Redis from 'ioredis';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../db/embedded-postgres';
import { isAddressInUse, startTemporalDevServer } from '../../temporal/dev-server';
import { startRedisServer } from '../../workers/embedded-redis';
import { isListening } from '../support/ports';

// Cold starts (initdb, a fresh SQLite file for Temporal) take seconds, not milliseconds.
jest.setTimeout(120_000);

let workDir: string;

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'launchers-test-'));
  // mkdtemp makes the folder private to root; as root, Postgres runs as the `postgres` user, which must get through it.
  fs.chmodSync(workDir, 0o755);
});

afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});


const portOf = (urlOrAddress: string) => Number(new URL(urlOrAddress.includes('://') ? urlOrAddress : `x://${urlOrAddress}`).port);

describe('Temporal dev server launcher', () => {
  it('when started on a free port, then the server answers getSystemInfo and stop() frees the port', async () => {
    const server = await startTemporalDevServer({
      namespace: 'launchers-test',
      dbFilename: path.join(workDir, 'temporal', 'dev.sqlite'),
      searchAttributes: [{ name: 'LaunchersTestKey', type: 'Keyword' }],
    });
    try {
      const connection = await Connection.connect({ address: server.address });
      try {
        const info = await connection.workflowService.getSystemInfo({});
        expect(info.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
        const described = await connection.workflowService.describeNamespace({ namespace: 'launchers-test' });
        expect(described.namespaceInfo?.name).toBe('launchers-test');
      } finally {
        await connection.close();
      }
      expect(server.uiUrl).toBeNull();
    } finally {
      await server.stop();
    }
    expect(await isListening(portOf(server.address))).toBe(false);
  });
});

describe('embedded Postgres launcher', () => {
  const dataDir = () => path.join(workDir, 'postgres', 'data');

  it('when started in an empty folder, then the database exists and answers select 1', async () => {
    const postgres = await startEmbeddedPostgres({ dataDir: dataDir(), database: 'launchers_test' });
    try {
      const client = new Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows } = await client.query('select 1 as one, current_database() as db');
        expect(rows).toEqual([{ one: 1, db: 'launchers_test' }]);
        await client.query('create table kept (value text)');
        await client.query('insert into kept values ($1)', ['still here']);
      } finally {
        await client.end();
      }
    } finally {
      await postgres.stop();
    }
    expect(await isListening(portOf(postgres.url))).toBe(false);
  });

  it('when restarted on the same folder, then the earlier data is still there', async () => {
    const postgres = await startEmbeddedPostgres({ dataDir: dataDir(), database: 'launchers_test' });
    try {
      const client = new Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows } = await client.query('select value from kept');
        expect(rows).toEqual([{ value: 'still here' }]);
      } finally {
        await client.end();
      }
    } finally {
      await postgres.stop();
    }
  });

  it('when its port is taken by another process, then it fails with the error a port clash is retried on (a port it chose itself is)', async () => {
    // Something else holds the port on 127.0.0.1, as a process that took it between our check and postgres' bind would.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const err = await startEmbeddedPostgres({ dataDir: dataDir(), database: 'launchers_test', port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(isAddressInUse(err)).toBe(true);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe('redis-server launcher', () => {
  it('when started on a free port, then it answers PING and stop() frees the port', async () => {
    const redisServer = await startRedisServer({ dataDir: path.join(workDir, 'redis') });
    try {
      const redis = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        expect(await redis.ping()).toBe('PONG');
      } finally {
        redis.disconnect();
      }
    } finally {
      await redisServer.stop();
    }
    expect(await isListening(portOf(redisServer.url))).toBe(false);
  });

  it('when the port is already taken, then starting fails with a message naming the port', async () => {
    const first = await startRedisServer({});
    try {
      const port = portOf(first.url);
      await expect(startRedisServer({ port })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await first.stop();
    }
  });
});
