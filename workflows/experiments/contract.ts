export const EXPERIMENT_WEIGHTS_WORKFLOW_TYPE = 'experimentWeightsWorkflow';

export interface ExperimentWeightsInput {
  tenant_id: string;
}

export interface ExperimentRecomputed {
  experiment_id: string;
  weights: Record<string, number>;
  /** Arms this run paused, with the guardrail's reason. */
  paused_arms: Array<{ arm_id: string; reason: string }>;
  /** Whether the experiment itself paused (every arm but the holdout is paused). */
  experiment_paused: boolean;
}

export interface ExperimentWeightsResult {
  tenant_id: string;
  experiments: ExperimentRecomputed[];
}
