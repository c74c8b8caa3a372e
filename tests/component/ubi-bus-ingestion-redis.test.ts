/** UBI ingesting from `ubi.events` over Redis Streams (the suite's Redis), the shared suite. */
import { useTestApp } from '../support/harness';
import { ubiBusIngestionSuite } from '../support/ubi-bus-ingestion';

const app = useTestApp(() => ({ BUS_TYPE: 'redis' }));
ubiBusIngestionSuite('Redis Streams', app);
