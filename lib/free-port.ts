import net from 'node:net';

/**
 * A port the OS says is free on 127.0.0.1, for a process that cannot bind port 0 and tell us which port it got (the
 * Temporal SDK's Core, the OpenTelemetry Collector). The small window before it binds (another process taking the
 * port in between) is the price.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
