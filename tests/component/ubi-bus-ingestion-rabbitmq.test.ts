/** UBI ingesting from `ubi.events` over RabbitMQ (a private node for this file), the shared suite. */
import { useTestApp } from '../support/harness';
import { useRabbitMq } from '../support/rabbitmq';
import { ubiBusIngestionSuite } from '../support/ubi-bus-ingestion';

jest.setTimeout(90_000);
const rabbit = useRabbitMq();
const app = useTestApp(() => ({ BUS_TYPE: 'rabbitmq', RABBITMQ_URL: rabbit.url }));
ubiBusIngestionSuite('RabbitMQ', app);
