import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { MentorEnrichmentTask } from '../../domain/mentor/mentor-planning';

export interface MentorEnrichmentInput {
  tenant_id: string;
  decision_id: string;
  tasks: MentorEnrichmentTask[];
}

/** The gateway call answers failures itself (template with a reason), so retries here only cover a crashed worker. */
const generate = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});
const store = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 20 },
});

/**
 * Enriches a decision's mentor actions through the LLM gateway after the decision has answered (the answer carries
 * the template marked pending), and writes the result into the stored decision: the enriched payload, or the
 * template with the reason it stands.
 */
export async function mentorEnrichmentWorkflow(input: MentorEnrichmentInput): Promise<Array<{ action_id: string; status: string }>> {
  const results = await Promise.all(input.tasks.map((task) => generate.generateMentorEnrichment({ tenant_id: input.tenant_id, decision_id: input.decision_id, task })));
  for (const result of results) await store.storeMentorEnrichment({ tenant_id: input.tenant_id, decision_id: input.decision_id, result });
  return results.map((r) => ({ action_id: r.action_id, status: (r.payload.enrichment as { status: string }).status }));
}
