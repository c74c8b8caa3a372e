import { allocate, guardrailBreach } from '../../domain/experiments/allocation';
import type { ExperimentRepository } from '../../db/repositories/experiment-repository';
import type { ExperimentRecomputed } from '../../workflows/experiments/contract';

export interface ExperimentActivityDeps {
  experiments: Pick<ExperimentRepository, 'running' | 'get' | 'counts' | 'pendingOutcomes' | 'saveAllocation'>;
}

/** The experiment Schedule's work (ADR 0017): thin over the repository and the pure rules of domain/experiments. */
export function createExperimentActivities(deps: ExperimentActivityDeps) {
  return {
    async listActiveExperiments(input: { tenant_id: string }): Promise<string[]> {
      return (await deps.experiments.running(input.tenant_id)).map((e) => e.experiment_id);
    },

    /**
     * Guardrails first (a newly paused arm gets no weight in the same run), then the weights from the counts. The
     * pending-outcome count is read before the counts, so outcomes recorded while this runs stay pending for the next.
     * Idempotent: a retry recomputes from the same or newer counts, and a pause is recorded (and audited) once.
     */
    async recomputeExperiment(input: { tenant_id: string; experiment_id: string }): Promise<ExperimentRecomputed> {
      const seen = await deps.experiments.pendingOutcomes(input.experiment_id);
      const stored = await deps.experiments.get(input.tenant_id, input.experiment_id);
      const d = stored.definition;
      const counts = await deps.experiments.counts(stored.experiment_id);
      const paused = new Set(stored.arms.filter((a) => a.paused_reason).map((a) => a.arm_id));
      const newlyPaused: Array<{ arm_id: string; reason: string }> = [];
      for (const arm of d.arms) {
        if (arm.holdout || paused.has(arm.arm_id)) continue;
        const c = counts.find((x) => x.arm_id === arm.arm_id);
        const reason = c ? guardrailBreach(c, d.guardrails) : null;
        if (reason) {
          paused.add(arm.arm_id);
          newlyPaused.push({ arm_id: arm.arm_id, reason });
        }
      }
      const alloc = allocate({ experiment_id: stored.experiment_id, ...d }, counts, paused);
      const experimentPaused = d.arms.filter((a) => !a.holdout).every((a) => paused.has(a.arm_id));
      await deps.experiments.saveAllocation(
        input.tenant_id,
        stored.experiment_id,
        d.arms.map((a) => ({ arm_id: a.arm_id, current_weight: alloc.weights[a.arm_id] ?? 0, probability_best: alloc.probability_best[a.arm_id] ?? null, pause: newlyPaused.find((p) => p.arm_id === a.arm_id)?.reason })),
        seen,
        experimentPaused,
      );
      return { experiment_id: stored.experiment_id, weights: alloc.weights, paused_arms: newlyPaused, experiment_paused: experimentPaused };
    },
  };
}
export type ExperimentActivities = ReturnType<typeof createExperimentActivities>;
