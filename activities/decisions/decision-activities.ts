import { isOverBudget } from '../../domain/decision-assembly';
import type { Decision } from '../../domain/model/decision';
import type { RecordDecision } from '../../db/repositories/decision-repository';

export interface DecisionStoreDeps {
  decisions: { record(input: RecordDecision): Promise<Decision> };
  now?: () => number;
}

export interface RecordDecisionInput extends Omit<RecordDecision, 'decision'> {
  decision: Omit<Decision, 'receipt_id' | 'latency_ms' | 'latency_warning'>;
  received_at_ms: number;
}

export function createDecisionActivities(deps: DecisionStoreDeps) {
  const now = deps.now ?? Date.now;
  return {
    /**
     * Stores the decision and appends its signed receipt in one transaction. Latency is measured here, from the API
     * receiving the request to the moment the decision is durable: that is what the surface waits for.
     */
    async recordDecision(input: RecordDecisionInput): Promise<Decision> {
      const latency = Math.max(0, now() - input.received_at_ms);
      const surface = input.decision.context.surface;
      return deps.decisions.record({
        ...input,
        decision: { ...input.decision, latency_ms: latency, latency_warning: isOverBudget(surface, latency) },
      });
    },
  };
}
