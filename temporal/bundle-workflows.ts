import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';

/**
 * Pre-bundles the workflow code once (build time, test global set-up), so workers start in milliseconds instead of
 * running webpack on every start.
 */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', '.tools', 'workflow-bundle.js');

export async function writeWorkflowBundle(outPath = WORKFLOW_BUNDLE_PATH): Promise<string> {
  const workflowsPath = require.resolve('../workflows');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, code);
  return outPath;
}

if (require.main === module) {
  writeWorkflowBundle(process.argv[2])
    .then((p) => console.log(`[build] workflow bundle written to ${p}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
