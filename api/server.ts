import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  url: string;
  port: number;
  /** Drains: stops accepting, lets requests in flight finish, and cuts what is left after the grace period. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** How long `close()` waits for requests in flight before it cuts their connections (HTTP_SHUTDOWN_GRACE_MS). */
  shutdownGraceMs: number;
  /** Called when the grace period ran out with requests still open, with how many were cut. */
  onGraceExpired?: (cut: number) => void;
}

/**
 * Starts the app; port 0 picks a free port (tests). Keep-alive is kept longer than typical load balancers' idle.
 * Stopping drains instead of cutting (a rolling deploy must not drop decides): see `close()`.
 */
export async function startServer(app: Express, port: number, host: string, opts: ServerOptions): Promise<RunningServer> {
  const graceMs = opts.shutdownGraceMs;
  const inFlight = new Set<http.ServerResponse>();
  let draining = false;
  const server = http.createServer((req, res) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // Its connection is idle now (or gone): while draining nothing more may arrive on it.
      if (draining) server.closeIdleConnections();
    });
    // A request that came in on a kept-alive connection while draining is still answered, and its connection ends.
    if (draining) res.setHeader('connection', 'close');
    app(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}`,
    port: addr.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        draining = true;
        // Answers not yet started tell their clients the connection ends with them, so none sends another request.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
        const cut = setTimeout(() => {
          opts.onGraceExpired?.(inFlight.size);
          server.closeAllConnections();
        }, graceMs);
        // No new connections; the callback runs once every connection has ended.
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        // Kept-alive connections between requests would otherwise hold the close until their keep-alive timeout.
        server.closeIdleConnections();
      })),
  };
}
