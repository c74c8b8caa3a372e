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
