/** UBI ingesting from `ubi.events` over the in-process bus, the shared suite. */
import { useTestApp } from '../support/harness';
import { ubiBusIngestionSuite } from '../support/ubi-bus-ingestion';

const app = useTestApp(() => ({ BUS_TYPE: 'memory' }));
ubiBusIngestionSuite('the in-memory bus', app);
