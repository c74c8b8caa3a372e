import type { Logger } from '../../observability/logger';
import type { SignalPublisher } from '../bus/signal-bus';

/**
 * The publisher used when no bus is wired: signals are still stored (and readable through the API and by context
 * assembly); this only logs that nothing was published, so the missing bus is visible rather than silent.
 */
export function createLoggingSignalPublisher(logger: Logger): SignalPublisher {
  return {
    async publish(signals) {
      logger.info({ signals: signals.length, signal_ids: signals.slice(0, 10).map((s) => s.signal_id) }, 'no signal bus configured: UBI signals stored, not published');
    },
  };
}
