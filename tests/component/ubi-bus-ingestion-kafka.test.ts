/** UBI ingesting from `ubi.events` over Kafka (a private broker for this file), the shared suite. */
import { useTestApp } from '../support/harness';
import { useKafka } from '../support/kafka';
import { ubiBusIngestionSuite } from '../support/ubi-bus-ingestion';

jest.setTimeout(90_000);
const kafka = useKafka();
const app = useTestApp(() => ({ BUS_TYPE: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_TOPIC_PARTITIONS: '2', KAFKA_SESSION_TIMEOUT_MS: '6000' }));
ubiBusIngestionSuite('Kafka', app);
