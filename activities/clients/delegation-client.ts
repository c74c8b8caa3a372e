import { ServiceCallError, type ServiceClient } from '../../lib/clients/service-client';

export type DelegationTarget = 'edge_agent' | 'ci';

export interface DelegatedAction {
  tenant_id: string;
  action_id: string;
  decision_id: string;
  action_digest: string;
  action: Record<string, unknown>;
  approvals: Array<{ approver_id: string; channel: string; at: string }>;
}

export interface DelegationAnswer {
  execution_id: string;
  status: string;
}

export interface DelegationClient {
  /** Whether this target has a configured service; without one the hand-off goes to the outbox. */
  has(target: DelegationTarget): boolean;
  dispatch(target: DelegationTarget, action: DelegatedAction, idempotencyKey: string): Promise<DelegationAnswer>;
}

const PATHS: Record<DelegationTarget, string> = { edge_agent: '/v1/edge/actions', ci: '/v1/ci/dispatch' };

/**
 * The edge agent (`POST /v1/edge/actions`) and CI (`POST /v1/ci/dispatch`) over the one service client (5.0 s timeout,
 * breaker), with the idempotency key so a retried dispatch runs once. The answer must name an execution.
 */
export function createDelegationClient(clients: Partial<Record<DelegationTarget, ServiceClient>>): DelegationClient {
  return {
    has: (target) => clients[target] !== undefined,
    async dispatch(target, action, idempotencyKey) {
      const client = clients[target];
      if (!client) throw new Error(`no ${target} service is configured`);
      const answer = await client.request<Partial<DelegationAnswer>>('POST', PATHS[target], { body: action, idempotencyKey });
      if (!answer || typeof answer.execution_id !== 'string' || typeof answer.status !== 'string')
        throw new ServiceCallError(client.name, 'invalid_response', 'answered without execution_id and status');
      return { execution_id: answer.execution_id, status: answer.status };
    },
  };
}
