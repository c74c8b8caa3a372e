/**
 * A private Kafka broker for the calling test file (workers/embedded-kafka.ts: KRaft, free ports, temp dir), started in
 * beforeAll and stopped in afterAll. It starts in ~5 s here (idle), so each file that needs one has its own and may
 * restart it without disturbing other files. Read `brokers` inside tests.
 */
import { startKafkaServer, type KafkaServer } from '../../workers/embedded-kafka';

export function useKafka(): { readonly brokers: string; readonly server: KafkaServer } {
  let server: KafkaServer | undefined;
  beforeAll(async () => {
    server = await startKafkaServer();
  }, 150_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);
  const running = () => {
    if (!server) throw new Error('kafka is not running (use it inside tests, not at module load)');
    return server;
  };
  return {
    get brokers() {
      return running().brokers;
    },
    get server() {
      return running();
    },
  };
}
