import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AlertDeliveryInput, AlertDeliveryResult, AlertPayload } from './contract';

/**
 * CONTRACT.md: the alerting call has a 2.0 s timeout (the client enforces it; the start-to-close leaves room for the
 * redaction call, 0.5 s). Retries come 0.5, 1 and 2 s after the first attempt, then back off doubling up to a cap of
 * one minute, for as long as an alert is still worth raising (one hour); the alert id keeps them one alert.
 */
const deliver = proxyActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const record = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 20 },
});

/**
 * Delivers the alerts of one alert-surface decision after it has answered: each to the alerting service (or the
 * outbox when none is configured). An alert still not accepted when its retry window closes is kept in the outbox as
 * `gave_up` rather than dropped.
 */
export async function alertDeliveryWorkflow(input: AlertDeliveryInput): Promise<AlertDeliveryResult[]> {
  return Promise.all(input.alerts.map((alert) => deliverOne(alert)));
}

async function deliverOne(alert: AlertPayload): Promise<AlertDeliveryResult> {
  try {
    return await deliver.deliverAlert({ alert });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const reason = err.cause?.message ?? err.message;
    log.warn('alert not delivered within its retry window', { alert_id: alert.alert_id, reason });
    await record.recordUndeliveredAlert({ alert, reason });
    return { alert_id: alert.alert_id, outcome: 'gave_up' };
  }
}
