import { z } from 'zod';
import { tenantPolicyInputSchema } from '../../domain/model/policy';
import { parseAnswer, type ServiceClient } from '../../lib/clients/service-client';
import { patchSchemaOf } from '../../lib/patch-schema';

/**
 * `GET /v1/policy/tenants/{tenant_id}/snapshot` (CONTRACT.md). `rules` carries the tenant MMM policy fields the policy
 * service decides (any of max_nudges_per_window, window_minutes, quiet_hours, cooldown_minutes, allowed_action_types,
 * …); fields it leaves out come from the tenant's local policy. Unknown rule keys are ignored, wrong types refused.
 * A patch schema, not `.partial()`: that would fill every field the service leaves out with the schema default.
 */
export const policySnapshotSchema = z.object({
  snapshot_id: z.string().min(1).max(200),
  version: z.number().int(),
  safety_critical: z.boolean(),
  rules: patchSchemaOf(tenantPolicyInputSchema).strip().default({}),
});
export type PolicySnapshot = z.infer<typeof policySnapshotSchema>;

export interface PolicyClient {
  fetchSnapshot(tenantId: string): Promise<PolicySnapshot>;
}

export function createPolicyClient(client: ServiceClient): PolicyClient {
  return {
    async fetchSnapshot(tenantId) {
      const answer = await client.request('GET', `/v1/policy/tenants/${encodeURIComponent(tenantId)}/snapshot`);
      return parseAnswer('policy', policySnapshotSchema, answer, 'the policy snapshot');
    },
  };
}
