import type { ApprovalDeps } from '../activities/approval/approval-activities';
import { createDelegationClient } from '../activities/clients/delegation-client';
import { createLlmGatewayClient } from '../activities/clients/llm-gateway-client';
import type { MentorDeps } from '../activities/mentor/mentor-activities';
import type { Repositories } from '../db/database';
import type { Metrics } from '../observability/metrics';
import type { ServiceClients } from './service-clients';

/**
 * What the mentor and multiplier activities use: typed clients over the configured services (none when unset:
 * templates for mentor actions, the outbox for delegations) and the stores behind approvals and enrichments.
 */
export function createActionDeps(repos: Repositories, clients: ServiceClients, metrics?: Metrics): MentorDeps & ApprovalDeps {
  return {
    llm: clients.llm_gateway ? createLlmGatewayClient(clients.llm_gateway) : undefined,
    enrichments: repos.actionEnrichment,
    approvals: repos.actionApprovals,
    policies: repos.policies,
    delegation: createDelegationClient({ edge_agent: clients.edge_agent, ci: clients.ci }),
    outbox: repos.outbox,
    metrics,
  };
}
