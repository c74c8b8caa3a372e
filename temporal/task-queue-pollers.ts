import type { Client } from '@temporalio/client';

/** temporal.api.enums.v1: TASK_QUEUE_KIND_NORMAL and TASK_QUEUE_TYPE_WORKFLOW (numbers, as the proto's enums are). */
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/**
 * How many workers have polled the task queue for workflow tasks within `withinMs`, by Temporal's own account
 * (DescribeTaskQueue). The server remembers a poller for minutes after it last polled, so only recent ones count: an
 * idle worker re-polls at least once a minute (a long poll ends after about 60 s), so a worker seen within two minutes
 * is alive and one gone is noticed within two minutes.
 */
export async function countRecentPollers(client: Client, taskQueue: string, withinMs: number, now = Date.now()): Promise<number> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
  });
  const identities = new Set<string>();
  for (const p of res.pollers ?? []) {
    const at = p.lastAccessTime;
    if (!at?.seconds) continue;
    const seconds = typeof at.seconds === 'number' ? at.seconds : at.seconds.toNumber();
    if (now - (seconds * 1000 + Math.floor((at.nanos ?? 0) / 1e6)) <= withinMs) identities.add(p.identity ?? '');
  }
  return identities.size;
}
