import { z } from 'zod';
import { parseAnswer, type ServiceClient } from '../../lib/clients/service-client';

/** `GET /v1/data-governance/tenants/{tenant_id}/config` (CONTRACT.md): the tenant's privacy configuration. */
export const privacyConfigSchema = z.object({
  retention_days: z.number().int().min(0).nullable().optional(),
  allowed_fields: z.array(z.string()).nullable().optional(),
  pii_fields: z.array(z.string()).default([]),
});
export type PrivacyConfig = z.infer<typeof privacyConfigSchema>;

const redactAnswer = z.object({ payload: z.unknown() });

export interface DataGovernanceClient {
  tenantConfig(tenantId: string): Promise<PrivacyConfig>;
  /** `POST /v1/data-governance/redact {payload}` → `{payload}`: the service's redaction of an outgoing payload. */
  redact<T>(payload: T): Promise<T>;
}

export function createDataGovernanceClient(client: ServiceClient): DataGovernanceClient {
  return {
    async tenantConfig(tenantId) {
      const answer = await client.request('GET', `/v1/data-governance/tenants/${encodeURIComponent(tenantId)}/config`);
      return parseAnswer('data_governance', privacyConfigSchema, answer, 'the tenant privacy config');
    },
    async redact<T>(payload: T) {
      const answer = await client.request('POST', '/v1/data-governance/redact', { body: { payload } });
      return parseAnswer('data_governance', redactAnswer, answer, 'the redaction answer').payload as T;
    },
  };
}
