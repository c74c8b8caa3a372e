import { EventEmitter } from 'node:events';
import type { StoredDecision } from '../domain/model/decision';

/**
 * In-process hand-off of committed decisions from the decision activity to the API, for the embedded topology where
 * both share a process. Once commitDecision returns, the decision and its receipt are durable in PostgreSQL, so the
 * API can answer without waiting for the Update's outcome and reading the decision back. If the workflow task were retried
 * after that point, the retry re-derives the same decision id and finds the committed decision: the answer already
 * given stays the truth. A separate API tier never receives notifications and reads the Update's outcome instead.
 */
export interface DecisionNotifier {
  committed(decisionId: string, stored: StoredDecision): void;
  /** Resolves with the decision committed under `decisionId`, or null after `timeoutMs`. Register before sending it. */
  waitFor(decisionId: string, timeoutMs: number): { promise: Promise<StoredDecision | null>; cancel(): void };
}

export function createDecisionNotifier(): DecisionNotifier {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    committed(workflowId, decision) {
      emitter.emit(workflowId, decision);
    },
    waitFor(workflowId, timeoutMs) {
      let cancel = () => {};
      const promise = new Promise<StoredDecision | null>((resolve) => {
        const onCommitted = (d: StoredDecision) => {
          clearTimeout(timer);
          resolve(d);
        };
        const timer = setTimeout(() => {
          emitter.off(workflowId, onCommitted);
          resolve(null);
        }, timeoutMs);
        emitter.once(workflowId, onCommitted);
        cancel = () => {
          clearTimeout(timer);
          emitter.off(workflowId, onCommitted);
          resolve(null);
        };
      });
      return { promise, cancel };
    },
  };
}
