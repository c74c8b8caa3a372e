import fs from 'node:fs';
import { requireEnv } from '../support/harness';

/**
 * Workflow modules are initialised for every workflow run, so what the bundle carries is paid on every decision.
 * zod in the bundle tripled the no-op round trip (see domain/model/constants.ts); this keeps it out.
 */
it('when the workflow bundle is built, then it carries no zod and no Node-only client library', () => {
  const code = fs.readFileSync(requireEnv('WORKFLOW_BUNDLE_PATH'), 'utf8');
  for (const pkg of ['zod', 'sequelize', 'ioredis', 'pg', 'express', 'pino']) {
    expect({ pkg, bundled: code.includes(`node_modules/${pkg}/`) }).toEqual({ pkg, bundled: false });
  }
  expect(code).toContain('decideWorkflow');
});
