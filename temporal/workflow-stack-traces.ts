/**
 * The switch for the Temporal SDK's per-promise stack capture in workflow threads. The SDK installs that promise hook
 * unconditionally; `patches/@temporalio+worker+1.24.0.patch` (applied by `npm install`'s postinstall) makes it skip the
 * hook when `TEMPORAL_WORKFLOW_STACK_TRACES=off` is in the environment the workflow threads start with. Workers copy
 * the process environment when they start their threads, so this is set before `Worker.create` (ADR 0012).
 */
const SDK_STACK_TRACES_ENV = 'TEMPORAL_WORKFLOW_STACK_TRACES';

/** Applies `WORKFLOW_STACK_TRACES` (config/) to the workflow threads of the workers created after this call. */
export function setWorkflowStackTraces(enabled: boolean): void {
  process.env[SDK_STACK_TRACES_ENV] = enabled ? 'on' : 'off';
}
