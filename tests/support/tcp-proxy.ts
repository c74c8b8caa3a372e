/**
 * A small real TCP proxy on a free port, for faults a network causes and a client cannot see: after `sever()`, what
 * the far side of each connection open now sends (an error message, its close) no longer reaches the client, whose
 * socket stays open, as behind a NAT or firewall that dropped an idle connection, or after a failover. What the client
 * then sends is answered with a reset (`'reset'`) or goes nowhere (`'blackhole'`). Later connections pass normally.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  host: string;
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  sever(mode: 'reset' | 'blackhole'): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const live = new Set<{ client: net.Socket; upstream: net.Socket; severed?: 'reset' | 'blackhole' }>();
  let count = 0;
  const server = net.createServer((client) => {
    count++;
    const upstream = net.connect(target.port, target.host);
    const pair: { client: net.Socket; upstream: net.Socket; severed?: 'reset' | 'blackhole' } = { client, upstream };
    live.add(pair);
    client.on('data', (chunk) => {
      if (!pair.severed) upstream.write(chunk);
      else if (pair.severed === 'reset') client.resetAndDestroy();
    });
    upstream.on('data', (chunk) => {
      if (!pair.severed) client.write(chunk);
    });
    // Nothing the far side does after the cut (its error message, its close) reaches the client.
    upstream.on('close', () => {
      if (!pair.severed) client.destroy();
    });
    client.on('close', () => {
      upstream.destroy();
      live.delete(pair);
    });
    upstream.on('error', () => undefined);
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    accepted: () => count,
    sever(mode) {
      for (const pair of live) pair.severed = mode;
    },
    async close() {
      for (const pair of live) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
