import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';

/**
 * Pre-bundles the workflow code once (build time, test global set-up), so workers start in milliseconds instead of
 * running webpack on every start. Two bundles: the plain one, and one with the OpenTelemetry workflow interceptors
 * for workers that trace (ADR 0015): the sandbox evaluates a bundle's code on every workflow run, so a worker with
 * tracing off runs none of the interceptors' code.
 */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', '.tools', 'workflow-bundle.js');

/**
 * The OpenTelemetry workflow interceptors (workflow, update, signal and local activity spans), run only for calls of a
 * sampled trace (workflows/tracing/interceptors.ts).
 */
export const OTEL_WORKFLOW_INTERCEPTORS = require.resolve('../workflows/tracing/interceptors');

/** Where the traced bundle sits beside a plain one. */
export function tracedBundlePath(plainPath: string): string {
  return plainPath.replace(/(\.js)?$/, '-otel.js');
}

export async function writeWorkflowBundle(outPath = WORKFLOW_BUNDLE_PATH, opts: { tracing?: boolean } = {}): Promise<string> {
  const workflowsPath = require.resolve('../workflows');
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: opts.tracing ? [OTEL_WORKFLOW_INTERCEPTORS] : [],
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, code);
  return outPath;
}

/** Both bundles: `outPath` and its traced sibling. */
export async function writeWorkflowBundles(outPath = WORKFLOW_BUNDLE_PATH): Promise<string[]> {
  return [await writeWorkflowBundle(outPath), await writeWorkflowBundle(tracedBundlePath(outPath), { tracing: true })];
}

if (require.main === module) {
  writeWorkflowBundles(process.argv[2])
    .then((p) => console.log(`[build] workflow bundles written to ${p.join(', ')}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
