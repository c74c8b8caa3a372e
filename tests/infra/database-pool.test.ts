/**
 * The PostgreSQL pool against the suite's real PostgreSQL: a connection killed on the server side while it sat idle in
 * the pool is never handed to a query, whether the client saw the kill or (behind a TCP proxy that hides it, as a NAT
 * or firewall would) not; and a connection idle past the recycle time is replaced, even one of the pool's minimum.
 */
import { Client } from 'pg';
import type { Sequelize } from 'sequelize';
import { createSequelize } from '../../db/sequelize';
import { requireEnv } from '../support/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const databaseUrl = () => requireEnv('TEST_DATABASE_URL');

let admin: Client;
const opened: Sequelize[] = [];
let proxy: TcpProxy | undefined;
beforeAll(async () => {
  admin = new Client({ connectionString: databaseUrl() });
  await admin.connect();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await admin.end();
});

function pool(url: string, over: Partial<Parameters<typeof createSequelize>[0]> = {}): Sequelize {
  const s = createSequelize({ url, poolMin: 0, poolMax: 1, pingAfterIdleMs: 50, pingTimeoutMs: 500, ...over });
  opened.push(s);
  return s;
}

async function backendPid(s: Sequelize): Promise<number> {
  const [rows] = await s.query('SELECT pg_backend_pid() AS pid');
  return (rows as Array<{ pid: number }>)[0].pid;
}

/** pg_terminate_backend only signals the backend; wait until it has really gone. */
async function terminate(pid: number): Promise<void> {
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  for (let i = 0; i < 100; i++) {
    const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (rows.length === 0) return;
    await sleep(20);
  }
  throw new Error(`backend ${pid} is still there`);
}

/** The query must answer, and soon: a dead connection handed to it would fail it or leave it hanging. */
async function answersWithin<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function viaProxy(p: TcpProxy): string {
  const url = new URL(databaseUrl());
  url.hostname = p.host;
  url.port = String(p.port);
  return url.toString();
}

it('when the idle pooled connection is killed on the server (pg_terminate_backend), then the next query gets a new one and succeeds', async () => {
  const db = pool(databaseUrl());
  const first = await backendPid(db);
  await terminate(first);
  await sleep(100);
  const second = await answersWithin(3_000, backendPid(db));
  expect(second).not.toBe(first);
});

it.each(['reset', 'blackhole'] as const)(
  'when the idle pooled connection is killed on the server and the network hides it from the client (%s), then the pre-ping catches it and the query succeeds on a new connection',
  async (mode) => {
    proxy = await startTcpProxy({ host: new URL(databaseUrl()).hostname, port: Number(new URL(databaseUrl()).port) });
    const db = pool(viaProxy(proxy));
    const first = await backendPid(db);
    // Sequelize's first use also opens (and closes) a connection of its own to read the server version.
    const opened = proxy.accepted();
    proxy.sever(mode);
    await terminate(first);
    await sleep(100); // idle past pingAfterIdleMs

    const second = await answersWithin(3_000, backendPid(db));

    expect(second).not.toBe(first);
    expect(proxy.accepted()).toBe(opened + 1);
    // And the pool goes on working.
    expect(await answersWithin(3_000, backendPid(db))).toBe(second);
  },
);

it('when a connection is back in the pool a moment after use, then it is reused as it is (no ping needed under load)', async () => {
  const db = pool(databaseUrl(), { pingAfterIdleMs: 60_000 });
  const first = await backendPid(db);
  expect(await backendPid(db)).toBe(first);
});

it('when a connection has been idle past the recycle time, then it is replaced, even when it is one of the pool minimum', async () => {
  const db = pool(databaseUrl(), { poolMin: 1, idleMs: 300 });
  const first = await backendPid(db);
  await sleep(450);
  const second = await backendPid(db);
  expect(second).not.toBe(first);
  // The recycled connection was closed, not left open on the server.
  for (let i = 0; i < 50; i++) {
    const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [first]);
    if (rows.length === 0) return;
    await sleep(20);
  }
  throw new Error(`the recycled backend ${first} is still open`);
});
