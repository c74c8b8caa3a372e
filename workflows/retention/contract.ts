import { z } from 'zod';
import { idSchema } from '../../domain/model/common';

export const UBI_RETENTION_WORKFLOW_TYPE = 'ubiRetentionWorkflow';

export const ubiRetentionInputSchema = z.object({ tenant_id: idSchema });
export type UbiRetentionInput = z.infer<typeof ubiRetentionInputSchema>;

export interface UbiRetentionResult {
  /** Everything older than this was deleted (now minus the tenant's retention_days when the run started). */
  cutoff: string;
  deleted: number;
  /** Actors not seen since the cutoff, removed from the roster with their baselines and profile. */
  actors: number;
}
