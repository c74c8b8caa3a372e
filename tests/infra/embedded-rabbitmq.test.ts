/** The private RabbitMQ launcher (workers/embedded-rabbitmq.ts) on Debian's rabbitmq-server. */
import amqp from 'amqplib';
import { startRabbitMqServer } from '../../workers/embedded-rabbitmq';
import { isListening } from '../support/ports';


test('when started, then it speaks AMQP on a free port with its own epmd, and stop() frees both ports', async () => {
  const server = await startRabbitMqServer();
  const port = Number(new URL(server.url).port);
  try {
    expect(port).not.toBe(5672);
    expect(server.epmdPort).not.toBe(4369);
    expect(await isListening(server.epmdPort)).toBe(true);
    const conn = await amqp.connect(server.url);
    try {
      const ch = await conn.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(q.queue, Buffer.from('hello'));
      const msg = await new Promise<amqp.GetMessage | false>((resolve) => setTimeout(() => void ch.get(q.queue, { noAck: true }).then(resolve), 100));
      expect(msg && msg.content.toString()).toBe('hello');
    } finally {
      await conn.close();
    }
  } finally {
    await server.stop();
  }
  expect(await isListening(port)).toBe(false);
  expect(await isListening(server.epmdPort)).toBe(false);
}, 120_000);
