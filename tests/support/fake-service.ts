/**
 * A small real HTTP server that plays a service we do not own (IAM, policy, ERIS, LLM gateway, edge agent, …) in
 * tests: it records every call and answers through a handler the test can swap at any time — a JSON reply, an error
 * status, a delay, a hang past the client's timeout, or a dropped connection. It listens on a free port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  /** The path with its query string. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  at: number;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  /** A raw (non-JSON) body, sent as is. */
  raw?: string;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /** Drop the connection without an answer. */
  destroy?: boolean;
}

export type FakeHandler = (call: RecordedCall) => FakeReply | Promise<FakeReply>;

export interface FakeService {
  url: string;
  calls: RecordedCall[];
  /** Calls to one path (exact match, query string excluded). */
  callsTo(path: string): RecordedCall[];
  setHandler(handler: FakeHandler): void;
  close(): Promise<void>;
}

export async function startFakeService(handler: FakeHandler = () => ({ status: 200, body: {} })): Promise<FakeService> {
  let current = handler;
  const calls: RecordedCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        /* kept as text */
      }
      const call: RecordedCall = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], url: req.url ?? '/', headers: req.headers, body, at: Date.now() };
      calls.push(call);
      let reply: FakeReply;
      try {
        reply = await current(call);
      } catch (err) {
        reply = { status: 500, body: { error: String(err) } };
      }
      if (reply.hang) return;
      if (reply.destroy) return void req.socket.destroy();
      const send = () => {
        if (res.destroyed) return;
        const payload = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(payload);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    setHandler(h) {
      current = h;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
