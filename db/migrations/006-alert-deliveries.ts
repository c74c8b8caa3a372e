/**
 * Alerts of alert-surface decisions reuse the action outbox (ADR 0009): without ALERTING_BASE_URL an alert is a
 * pending row with target `alerting` that surfaces read; with it, an alert the service refused (a 4xx) or that was
 * still not accepted when its retry window closed is kept as a row with status `refused` or `gave_up`. The alert id is
 * the idempotency key, so a retried activity writes one row.
 */
export const name = '006-alert-deliveries';
export const up = `
ALTER TABLE action_outbox DROP CONSTRAINT IF EXISTS action_outbox_target_check;
ALTER TABLE action_outbox ADD CONSTRAINT action_outbox_target_check CHECK (target IN ('edge_agent', 'ci', 'alerting'));
`;
