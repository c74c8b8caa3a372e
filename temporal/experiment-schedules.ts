import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { EXPERIMENT_WEIGHTS_WORKFLOW_TYPE } from '../workflows/experiments/contract';
import { ensureSchedule } from './ubi-schedules';
import { experimentWeightsWorkflowId } from './workflow-ids';

export const experimentScheduleId = (tenantId: string) => `mmm-experiments/${tenantId}`;

/**
 * The tenant's experiment Schedule (ADR 0017): every `intervalSeconds` (the issue: at least every minute) the weights of
 * its active experiments are recomputed from aggregate counts and their guardrails applied. A run that is still going
 * makes the next one skip; `trigger` (enough new outcomes) starts one at once. Created on the first activation, so
 * tenants without experiments have none; a tenant whose experiments are all done keeps a run that finds nothing.
 */
export function createExperimentScheduler(deps: { client: Client; taskQueue: string; intervalSeconds: number; logger: { warn(obj: object, msg: string): void } }) {
  const ensured = new Map<string, Promise<boolean>>();
  async function create(tenantId: string): Promise<boolean> {
    await ensureSchedule(deps.client, {
      scheduleId: experimentScheduleId(tenantId), every: `${deps.intervalSeconds} seconds`, workflowType: EXPERIMENT_WEIGHTS_WORKFLOW_TYPE,
      workflowId: experimentWeightsWorkflowId(tenantId, 'scheduled'), taskQueue: deps.taskQueue, args: [{ tenant_id: tenantId }],
      catchupWindow: '1 minute', workflowExecutionTimeout: '5 minutes',
    });
    return true;
  }

  return {
    /** Once per process and tenant; a failure is logged and retried on the next call (activation does not fail on it). */
    ensure(tenantId: string): Promise<boolean> {
      const existing = ensured.get(tenantId);
      if (existing) return existing;
      const p = create(tenantId).catch((err) => {
        ensured.delete(tenantId);
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err), tenant_id: tenantId }, 'could not ensure the experiment schedule; will retry');
        return false;
      });
      ensured.set(tenantId, p);
      return p;
    },
    /** Runs the recompute now (skipped when one is running: it reads the newest counts anyway). */
    async trigger(tenantId: string): Promise<void> {
      try {
        await deps.client.schedule.getHandle(experimentScheduleId(tenantId)).trigger(ScheduleOverlapPolicy.SKIP);
      } catch (err) {
        if (err instanceof ScheduleNotFoundError && (await this.ensure(tenantId))) return this.trigger(tenantId);
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err), tenant_id: tenantId }, 'could not trigger the experiment schedule; the next interval recomputes');
      }
    },
  };
}
export type ExperimentScheduler = ReturnType<typeof createExperimentScheduler>;
