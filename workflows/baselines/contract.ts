import { z } from 'zod';
import { idSchema } from '../../domain/model/common';

export const RECOMPUTE_BASELINES_WORKFLOW_TYPE = 'recomputeBaselinesWorkflow';

export const recomputeBaselinesInputSchema = z.object({
  tenant_id: idSchema,
  /** The day baselines are computed as of (its 28 preceding days); set by the first run, carried across continue-as-new. */
  as_of: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  /** Cursor: the last actor id done by an earlier run of this chain. */
  after_actor_id: z.string().nullable().optional(),
  processed: z.number().int().min(0).optional(),
  /** Actors per activity call (each call heartbeats); the default suits PostgreSQL round trips of ~0.1 s. */
  batch_size: z.number().int().min(1).max(5000).optional(),
  /** Pages per run before continue-as-new (default 200); small values exercise the hand-over in tests. */
  pages_per_run: z.number().int().min(1).max(1000).optional(),
});
export type RecomputeBaselinesInput = z.infer<typeof recomputeBaselinesInputSchema>;

export interface RecomputeBaselinesResult {
  tenant_id: string;
  as_of: string;
  actors: number;
  team_baselines: number;
  runs: number;
}
