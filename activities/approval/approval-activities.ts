import { ApplicationFailure } from '@temporalio/activity';
import type { ApprovalTransition } from '../../db/repositories/action-approval-repository';
import type { OutboxEntry } from '../../db/repositories/outbox-repository';
import type { Execution } from '../../domain/approval/approval-rules';
import type { TenantPolicy } from '../../domain/model/policy';
import type { DelegatedAction, DelegationClient, DelegationTarget } from '../clients/delegation-client';
import { ServiceCallError } from '../../lib/clients/service-client';
import type { Metrics } from '../../observability/metrics';

export interface ApprovalDeps {
  approvals?: { recordTransition(t: ApprovalTransition): Promise<{ receipt_id: string }> };
  policies?: { get(tenantId: string): Promise<TenantPolicy> };
  delegation?: DelegationClient;
  outbox?: { record(entry: OutboxEntry): Promise<{ outbox_id: string }> };
  metrics?: Pick<Metrics, 'approvalTransitions'>;
}

/** Business refusal of a delegation (a 4xx from the edge agent or CI): retrying the same request cannot help. */
export const DELEGATION_REJECTED = 'DelegationRejected';

function required<T>(dep: T | undefined, name: string): T {
  if (!dep) throw ApplicationFailure.nonRetryable(`the approval activities need ${name}`, 'MissingDependency');
  return dep;
}

export function createApprovalActivities(deps: ApprovalDeps) {
  return {
    /** One receipt per transition, in the tenant's chain; keyed by (action, seq), so a retry writes once. */
    async recordApprovalTransition(t: ApprovalTransition): Promise<{ receipt_id: string }> {
      const receipt = await required(deps.approvals, 'an approval store').recordTransition(t);
      deps.metrics?.approvalTransitions.inc({ event: t.event, status: t.status });
      return receipt;
    },

    /** After approval, policy is asked again: an approval does not outlive a tenant turning multiplier actions off. */
    async recheckActionPolicy(input: { tenant_id: string; action_type: string }): Promise<{ allowed: boolean; policy_snapshot_id: string }> {
      const policy = await required(deps.policies, 'a policy reader').get(input.tenant_id);
      const allowed = policy.allowed_action_types.includes(input.action_type as TenantPolicy['allowed_action_types'][number]);
      return { allowed, policy_snapshot_id: policy.policy_snapshot_id };
    },

    /**
     * Delegates execution to the edge agent or CI with an idempotency key derived from the workflow, so Temporal's
     * retries (transient faults are thrown plainly) reach the service as one request. Without a configured service
     * the outbox records the hand-off under the same key.
     */
    async delegateAction(input: { target: DelegationTarget; action: DelegatedAction; idempotency_key: string }): Promise<Execution> {
      const delegation = deps.delegation;
      if (!delegation || !delegation.has(input.target)) {
        const { outbox_id } = await required(deps.outbox, 'an outbox').record({
          tenant_id: input.action.tenant_id,
          action_id: input.action.action_id,
          target: input.target,
          idempotency_key: input.idempotency_key,
          payload: input.action as unknown as Record<string, unknown>,
        });
        return { target: input.target, via: 'outbox', execution_id: `outbox:${outbox_id}`, status: 'queued', idempotency_key: input.idempotency_key };
      }
      try {
        const answer = await delegation.dispatch(input.target, input.action, input.idempotency_key);
        return { target: input.target, via: 'service', execution_id: answer.execution_id, status: answer.status, idempotency_key: input.idempotency_key };
      } catch (err) {
        if (err instanceof ServiceCallError && err.isRefusal)
          throw ApplicationFailure.nonRetryable(err.message, DELEGATION_REJECTED, { status: err.status });
        throw err;
      }
    },
  };
}
