export const UBI_RETENTION_WORKFLOW_TYPE = 'ubiRetentionWorkflow';

export interface UbiRetentionInput {
  tenant_id: string;
}

export interface UbiRetentionResult {
  /** Everything older than this was deleted (now minus the tenant's retention_days when the run started). */
  cutoff: string;
  deleted: number;
  /** Actors not seen since the cutoff, removed from the roster with their baselines and profile. */
  actors: number;
}

export const MMM_RETENTION_WORKFLOW_TYPE = 'mmmRetentionWorkflow';

export interface MmmRetentionInput {
  tenant_id: string;
}

export interface MmmRetentionResult {
  /** Decisions created before this were purged (now minus retention_days when the run started). */
  cutoff: string;
  retention_days: number;
  /** Where retention_days came from: data governance when it has one, else the tenant policy (default 90). */
  source: 'data_governance' | 'tenant_policy';
  decisions: number;
  outcomes: number;
  approvals: number;
  outbox: number;
  /** Audit entries past the cutoff whose before/after values were cleared (the entries stay). */
  audit_entries: number;
}
