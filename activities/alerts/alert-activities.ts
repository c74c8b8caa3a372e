import type { OutboxEntry } from '../../db/repositories/outbox-repository';
import type { AlertPayload } from '../../domain/alerting';
import { redact } from '../../domain/redaction';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { AlertingClient } from '../clients/alerting-client';
import { ServiceCallError } from '../../lib/clients/service-client';
import type { PrivacyGuard } from '../governance/privacy-guard';

export interface AlertActivityDeps {
  /** The alerting service (ALERTING_BASE_URL); absent: alerts are recorded in the outbox surfaces read. */
  alerting?: Pick<AlertingClient, 'sendAlert'>;
  outbox: { record(entry: OutboxEntry): Promise<{ outbox_id: string }> };
  /**
   * Data governance for what leaves the engine: the guard the receipts go through (ADR 0009). The composition root
   * always passes it; absent (tests of other flows), the guard's local redaction alone applies.
   */
  privacy?: Pick<PrivacyGuard, 'redactOutgoing'>;
  metrics?: Pick<Metrics, 'alertDeliveries'>;
  logger?: Pick<Logger, 'warn'>;
}

export interface DeliverAlertResult {
  alert_id: string;
  outcome: 'delivered' | 'refused' | 'outbox';
  status?: number;
}

function required<T>(dep: T | undefined): T {
  // Without deps the worker was built for other flows; a plain error (retried) rather than a silently dropped alert.
  if (!dep) throw new Error('the alert activities are not configured on this worker');
  return dep;
}

/** Without deps (a worker built for tests of other flows) the activities throw, so Temporal keeps the alert for retry. */
export function createAlertActivities(deps?: AlertActivityDeps) {
  /** What leaves the engine: the alert through the tenant's redaction, with the ids that link it back kept as they are. */
  async function minimised(alert: AlertPayload): Promise<AlertPayload> {
    const d = required(deps);
    // The guard applies the local redaction itself (then the tenant's config and the service); without one, local only.
    let payload: AlertPayload;
    if (d.privacy) {
      const out = await d.privacy.redactOutgoing(alert.tenant_id, alert);
      // Degraded: the data governance service did not answer; the local redaction and last known config applied.
      if (out.degraded) d.logger?.warn({ alert_id: alert.alert_id, tenant_id: alert.tenant_id }, 'data governance redaction unavailable for an alert; local redaction applied');
      payload = out.payload;
    } else payload = redact(alert) as AlertPayload;
    return { ...payload, alert_id: alert.alert_id, tenant_id: alert.tenant_id, decision_id: alert.decision_id };
  }
  function outboxEntry(alert: AlertPayload, status: OutboxEntry['status']): OutboxEntry {
    return { tenant_id: alert.tenant_id, action_id: alert.alert_id, target: 'alerting', idempotency_key: alert.alert_id, payload: { ...alert }, status };
  }

  return {
    /**
     * Delivers one alert to the alerting service with its alert id as idempotency key, so Temporal's retries (transient
     * faults are thrown plainly: 5xx, 408, 429, timeouts, an open breaker) reach the service as one alert. A 4xx other
     * than 408/429 is the service refusing this alert: retrying cannot help, so it is recorded as refused and the
     * activity completes. Without a configured service the alert is recorded in the outbox instead.
     */
    async deliverAlert(input: { alert: AlertPayload }): Promise<DeliverAlertResult> {
      const d = required(deps);
      const alert = await minimised(input.alert);
      if (!d.alerting) {
        await d.outbox.record(outboxEntry(alert, 'pending'));
        d.metrics?.alertDeliveries.inc({ outcome: 'outbox' });
        return { alert_id: alert.alert_id, outcome: 'outbox' };
      }
      try {
        await d.alerting.sendAlert(alert);
      } catch (err) {
        if (err instanceof ServiceCallError && err.isRefusal) {
          await d.outbox.record(outboxEntry(alert, 'refused'));
          d.metrics?.alertDeliveries.inc({ outcome: 'refused' });
          d.logger?.warn({ alert_id: alert.alert_id, tenant_id: alert.tenant_id, status: err.status }, 'alerting service refused the alert');
          return { alert_id: alert.alert_id, outcome: 'refused', status: err.status };
        }
        d.metrics?.alertDeliveries.inc({ outcome: 'retry' });
        throw err;
      }
      d.metrics?.alertDeliveries.inc({ outcome: 'delivered' });
      return { alert_id: alert.alert_id, outcome: 'delivered' };
    },

    /** The delivery's retry window closed: the alert is kept, as a `gave_up` outbox row ops and surfaces can find. */
    async recordUndeliveredAlert(input: { alert: AlertPayload; reason: string }): Promise<void> {
      const d = required(deps);
      const alert = await minimised(input.alert);
      await d.outbox.record(outboxEntry(alert, 'gave_up'));
      d.metrics?.alertDeliveries.inc({ outcome: 'gave_up' });
      d.logger?.warn({ alert_id: alert.alert_id, tenant_id: alert.tenant_id, reason: input.reason }, 'alert not accepted by the alerting service within its retry window');
    },
  };
}
