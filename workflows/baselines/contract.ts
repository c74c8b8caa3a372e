export const RECOMPUTE_BASELINES_WORKFLOW_TYPE = 'recomputeBaselinesWorkflow';

export interface RecomputeBaselinesInput {
  tenant_id: string;
  /** The day baselines are computed as of, YYYY-MM-DD (its 28 preceding days); set by the first run, carried across continue-as-new. */
  as_of?: string;
  /** Cursor: the last actor id done by an earlier run of this chain. */
  after_actor_id?: string | null;
  processed?: number;
  /** Actors per activity call (each call heartbeats); the default suits PostgreSQL round trips of ~0.1 s. */
  batch_size?: number;
  /** Pages per run before continue-as-new (default 200); small values exercise the hand-over in tests. */
  pages_per_run?: number;
  /** Carried across continue-as-new: `score` once every baseline is written and the open days are being scored. */
  phase?: 'baselines' | 'score';
  team_baselines?: number;
  /** Cursor of the scoring phase: the last actor id whose open days an earlier run scored. */
  score_after_actor_id?: string | null;
  signals?: number;
}

export interface RecomputeBaselinesResult {
  tenant_id: string;
  as_of: string;
  actors: number;
  team_baselines: number;
  runs: number;
  /** New signals of the open days scored against the new baselines (absent from runs recorded before that step). */
  signals?: number;
}
