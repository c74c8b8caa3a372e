/**
 * What an alert-surface decision hands to the alerting service (CONTRACT.md, ALERTING_BASE_URL): one alert per shown
 * action that has an alert rendering (domain/rendering.ts). Data minimisation: the alert carries what the alerting
 * surface shows and the ids that link it back to the decision, nothing of the request's context (no actor id, branch,
 * file path or signal payload beyond what the playbook's own template put in the text).
 */
import type { CandidateAction } from './action-planning';
import type { ActionType, Severity, Surface } from './model/common';

/**
 * Plain types: this runs in the workflow bundle, which carries no zod (the schema is in workflows/alerts/contract.ts).
 * A type alias, not an interface, so it is assignable to the alerting client's open-ended RenderedAlert.
 */
export type AlertPayload = {
  /** The action id: one alert per shown action, and the idempotency key of its delivery. */
  alert_id: string;
  tenant_id: string;
  decision_id: string;
  action_type: ActionType;
  playbook_id: string;
  playbook_version: number;
  title: string;
  body: string;
  severity: Severity;
};

/** The alerts of a committed decision: only on the alert surface, only for the actions shown (fatigue may drop some). */
export function alertsToDeliver(input: {
  tenant_id: string;
  decision_id: string;
  surface: Surface;
  candidates: CandidateAction[];
  shown_action_ids: string[];
}): AlertPayload[] {
  if (input.surface !== 'alert') return [];
  const shown = new Set(input.shown_action_ids);
  const alerts: AlertPayload[] = [];
  for (const { action } of input.candidates) {
    const rendered = action.payload.rendered.alert;
    if (!rendered || !shown.has(action.action_id)) continue;
    alerts.push({
      alert_id: action.action_id,
      tenant_id: input.tenant_id,
      decision_id: input.decision_id,
      action_type: action.type,
      playbook_id: action.playbook_id,
      playbook_version: action.playbook_version,
      title: rendered.title,
      body: rendered.text,
      severity: rendered.severity,
    });
  }
  return alerts;
}
