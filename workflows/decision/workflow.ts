import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ActionType } from '../../domain/model/common';
import type { DecisionRef } from '../../domain/model/decision';
import { OUTCOME_ATTR } from '../../temporal/search-attributes';
import type { DecideWorkflowInput } from './contract';
import { ALL_ACTION_TYPES, runDecision } from './decide-steps';

/** Before MENTOR_MULTIPLIER_PATCH, mentor and multiplier actions were suppressed as not_supported. */
const SUPPORTED_ACTION_TYPES: ActionType[] = ['mirror'];
/** Mentor actions (template now, LLM enrichment after the answer) and multiplier actions (consent and approval). */
const MENTOR_MULTIPLIER_PATCH = 'mentor-multiplier-v1';
/** Alert-surface decisions that show actions deliver their alerts after the answer (alertDeliveryWorkflow). */
const ALERT_DELIVERY_PATCH = 'alert-delivery-v1';

/**
 * One workflow per decision: how decisions ran before ADR 0012. No new decision starts it; it stays registered so
 * runs started before the deploy complete (each lives at most its 2 min execution timeout) and its recorded histories
 * keep replaying (tests/replay). Its command sequence must not change.
 */
export async function decideWorkflow(input: DecideWorkflowInput): Promise<DecisionRef> {
  // Decisions recorded before mentor and multiplier delivery replay with the old supported types and no follow-ups.
  const actionsV1 = patched(MENTOR_MULTIPLIER_PATCH);
  return runDecision(input, {
    supportedTypes: actionsV1 ? ALL_ACTION_TYPES : SUPPORTED_ACTION_TYPES,
    followUps: actionsV1,
    alertDelivery: () => patched(ALERT_DELIVERY_PATCH),
    onceOnly: false,
    recordedAt: { workflow_id: workflowInfo().workflowId, workflow_run_id: null, update_id: null },
    // Let ops find it by outcome.
    afterCommit: (decision) => upsertSearchAttributes([{ key: OUTCOME_ATTR, value: decision.outcome }]),
  });
}
