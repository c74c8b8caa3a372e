/**
 * Stopping the API drains instead of cutting: the server stops accepting, requests in flight get their full answers,
 * idle kept-alive connections are closed at once, and only what is still open after the grace period is cut, so a
 * rolling deploy does not drop decides. The whole app against a slow policy service (a real HTTP server), then the
 * server module on its own for the bound.
 */
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { startServer } from '../../api/server';
import { startFakeService, type FakeService } from '../support/fake-service';
import { startTestApp } from '../support/harness';
import { buildFailuresPlaybook, buildFailuresSignal, decideBody, newTenant, publishPlaybook } from './fixtures';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when a new TCP connection to the port is refused (the server no longer accepts). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** A request over its own connection, with the answer's status, body and connection header. */
function request(url: string, path: string, opts: { method?: string; token?: string; body?: unknown; agent?: http.Agent } = {}) {
  return new Promise<{ status: number; body: any; connection?: string }>((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(url + path, {
      method: opts.method ?? 'GET',
      agent: opts.agent ?? false,
      headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, connection: res.headers.connection });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('the whole app', () => {
  let policy: FakeService;
  const slow = new Set<string>();
  beforeAll(async () => {
    // Slow but within the policy client's 0.5 s timeout: the decide is in flight for that long.
    policy = await startFakeService((call) => {
      const tenant = decodeURIComponent(call.path.split('/')[4] ?? '');
      return { delayMs: slow.has(tenant) ? 350 : 0, body: { snapshot_id: `snap-${tenant}`, version: 1, safety_critical: false, rules: {} } };
    });
  });
  afterAll(async () => {
    await policy?.close();
  });

  it('when the app is stopped while a decide is in flight, then the decide gets its full 200 answer, new connections are refused, and stop ends soon after', async () => {
    const app = await startTestApp({ POLICY_BASE_URL: policy.url, POLICY_CACHE_TTL_MS: '0', HTTP_SHUTDOWN_GRACE_MS: '10000' });
    let stopped = false;
    try {
      const fx = newTenant(app, 'drain');
      await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
      const port = Number(new URL(app.url).port);
      slow.add(fx.tenant);
      const calls = policy.calls.length;

      const inFlight = request(app.url, '/v1/mmm/decide', { method: 'POST', token: fx.service, body: decideBody(fx.tenant, { signal: buildFailuresSignal(4) }) });
      // The decide has reached the (slow) policy service: it is in flight now.
      while (policy.calls.length === calls) await sleep(5);
      const started = Date.now();
      const stopping = app.stop().then(() => (stopped = true));
      await sleep(20);
      expect(await refused(port)).toBe(true);

      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ outcome: 'shown', policy_snapshot_id: `snap-${fx.tenant}` });
      expect(answer.body.actions).toHaveLength(1);
      expect(answer.connection).toBe('close');
      await stopping;
      // Well within the 10 s grace: the drain ended when the last request did, not when the grace ran out.
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      if (!stopped) await app.stop();
    }
  });
});

describe('the server on its own', () => {
  function hangingApp() {
    const app = express();
    app.get('/ok', (_req, res) => void res.json({ ok: true }));
    app.get('/slow', (_req, res) => void setTimeout(() => res.json({ slow: true }), 300));
    app.get('/hang', () => undefined);
    return app;
  }

  it('when a request hangs, then stop resolves once the grace period is over, cutting it', async () => {
    const cut: number[] = [];
    const server = await startServer(hangingApp(), 0, '127.0.0.1', { shutdownGraceMs: 400, onGraceExpired: (n) => cut.push(n) });
    const hanging = request(server.url, '/hang').then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    await sleep(50);
    const started = Date.now();
    await server.close();
    const took = Date.now() - started;

    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(1_500);
    expect(await hanging).toBe('ECONNRESET');
    expect(cut).toEqual([1]);
  });

  it('when a kept-alive connection is idle and another request is slow, then stop closes the idle one at once and waits only for the slow one', async () => {
    const server = await startServer(hangingApp(), 0, '127.0.0.1', { shutdownGraceMs: 10_000 });
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect((await request(server.url, '/ok', { agent })).status).toBe(200);
      const slowAnswer = request(server.url, '/slow');
      await sleep(50);
      const started = Date.now();
      await server.close();
      const took = Date.now() - started;

      expect(await slowAnswer).toMatchObject({ status: 200, body: { slow: true }, connection: 'close' });
      // The idle kept-alive connection (65 s keep-alive) did not hold the close; the slow request (300 ms) did.
      expect(took).toBeGreaterThanOrEqual(200);
      expect(took).toBeLessThan(2_000);
    } finally {
      agent.destroy();
    }
  });
});
