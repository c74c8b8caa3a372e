import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { RECOMPUTE_BASELINES_WORKFLOW_TYPE } from '../workflows/baselines/contract';
import { MMM_RETENTION_WORKFLOW_TYPE, UBI_RETENTION_WORKFLOW_TYPE } from '../workflows/retention/contract';
import { mmmRetentionWorkflowId, recomputeWorkflowId, ubiRetentionWorkflowId } from './workflow-ids';

/** Retention runs daily at 03:30 UTC, after the default 02:00 recompute. */
export const RETENTION_CRON = '30 3 * * *';
/** The MMM engine's retention (decisions, outcomes, approvals, outbox) runs daily at 03:45 UTC, after UBI's. */
export const MMM_RETENTION_CRON = '45 3 * * *';

export const baselineScheduleId = (tenantId: string) => `ubi-baselines/${tenantId}`;
export const retentionScheduleId = (tenantId: string) => `ubi-retention/${tenantId}`;
export const mmmRetentionScheduleId = (tenantId: string) => `mmm-retention/${tenantId}`;

/**
 * A Schedule created, or (already there: another replica, an earlier start) updated to match the current config;
 * updating is idempotent. A slow run never overlaps the next one: it is skipped, the next one catches up. `cron` or
 * `every` gives its spec. Shared by the UBI, retention and experiment Schedules.
 */
export async function ensureSchedule(
  client: Client,
  opts: {
    scheduleId: string;
    cron?: string;
    every?: `${number} seconds`;
    workflowType: string;
    workflowId: string;
    taskQueue: string;
    args: unknown[];
    catchupWindow?: '1 hour' | '1 minute';
    workflowExecutionTimeout?: `${number} minutes`;
  },
): Promise<'created' | 'updated'> {
  const spec = opts.every ? { intervals: [{ every: opts.every }] } : { cronExpressions: [opts.cron as string] };
  const action = {
    type: 'startWorkflow' as const, workflowType: opts.workflowType, workflowId: opts.workflowId, taskQueue: opts.taskQueue, args: opts.args,
    ...(opts.workflowExecutionTimeout ? { workflowExecutionTimeout: opts.workflowExecutionTimeout } : {}),
  };
  try {
    await client.schedule.create({ scheduleId: opts.scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: opts.catchupWindow ?? '1 hour' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(opts.scheduleId).update((prev) => ({ ...prev, spec, action }));
  return 'updated';
}

/**
 * The tenant's three schedules, created idempotently: UBI's nightly baseline recompute (cron from the tenant config)
 * and daily retention, and the MMM engine's daily retention. Safe to call at every start and after every config
 * change: an existing schedule is updated.
 */
export async function ensureUbiSchedules(client: Client, opts: { tenantId: string; baselineCron: string; taskQueue: string }): Promise<void> {
  await ensureSchedule(client, {
    scheduleId: baselineScheduleId(opts.tenantId), cron: opts.baselineCron, workflowType: RECOMPUTE_BASELINES_WORKFLOW_TYPE,
    workflowId: recomputeWorkflowId(opts.tenantId, 'scheduled'), taskQueue: opts.taskQueue, args: [{ tenant_id: opts.tenantId }],
  });
  await ensureSchedule(client, {
    scheduleId: retentionScheduleId(opts.tenantId), cron: RETENTION_CRON, workflowType: UBI_RETENTION_WORKFLOW_TYPE,
    workflowId: ubiRetentionWorkflowId(opts.tenantId, 'scheduled'), taskQueue: opts.taskQueue, args: [{ tenant_id: opts.tenantId }],
  });
  await ensureSchedule(client, {
    scheduleId: mmmRetentionScheduleId(opts.tenantId), cron: MMM_RETENTION_CRON, workflowType: MMM_RETENTION_WORKFLOW_TYPE,
    workflowId: mmmRetentionWorkflowId(opts.tenantId, 'scheduled'), taskQueue: opts.taskQueue, args: [{ tenant_id: opts.tenantId }],
  });
}

/**
 * Ensures each tenant's schedules once per process (at start for known tenants, on a tenant's first events, and again
 * whenever its config changes). Failures are logged and retried on the next call, never thrown at ingestion.
 */
export function createUbiScheduler(deps: { client: Client; taskQueue: string; cronOf(tenantId: string): Promise<string>; logger: { warn(obj: object, msg: string): void }; enabled: boolean }) {
  const done = new Map<string, Promise<boolean>>();
  function ensure(tenantId: string, force = false): Promise<boolean> {
    if (!deps.enabled) return Promise.resolve(false);
    const existing = done.get(tenantId);
    if (existing && !force) return existing;
    const p = (async () => {
      try {
        await ensureUbiSchedules(deps.client, { tenantId, baselineCron: await deps.cronOf(tenantId), taskQueue: deps.taskQueue });
        return true;
      } catch (err) {
        done.delete(tenantId);
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err), tenant_id: tenantId }, 'could not ensure the UBI schedules; will retry');
        return false;
      }
    })();
    done.set(tenantId, p);
    return p;
  }
  return { ensure };
}
export type UbiScheduler = ReturnType<typeof createUbiScheduler>;
