import type { BehaviouralSignal } from '../../domain/model/behavioural-signal';

/**
 * Publishes stored behavioural signals: every one on BEHAVIOURAL_SIGNALS_TOPIC, `high` and `critical` also on
 * DETECTION_SIGNALS_TOPIC, keyed by tenant. At-least-once: a publish that throws may be retried by the caller, and
 * consumers de-duplicate by `signal_id`.
 */
export interface SignalPublisher {
  publish(signals: BehaviouralSignal[]): Promise<void>;
}
