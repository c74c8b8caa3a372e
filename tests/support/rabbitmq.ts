/**
 * A private RabbitMQ node for the calling test file (workers/embedded-rabbitmq.ts: free ports, own epmd, temp dir),
 * started in beforeAll and stopped in afterAll. Read `url` inside tests.
 */
import { startRabbitMqServer, type RabbitMqServer } from '../../workers/embedded-rabbitmq';

export function useRabbitMq(): { readonly url: string } {
  let server: RabbitMqServer | undefined;
  beforeAll(async () => {
    server = await startRabbitMqServer();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);
  return {
    get url() {
      if (!server) throw new Error('rabbitmq-server is not running (use it inside tests, not at module load)');
      return server.url;
    },
  };
}
