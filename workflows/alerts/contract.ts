import { z } from 'zod';
import type { AlertPayload } from '../../domain/alerting';
import { actionTypeSchema, severitySchema } from '../../domain/model/common';

export type { AlertPayload } from '../../domain/alerting';

/** What is sent to the alerting service (POST /v1/alerts), and what an outbox row of target `alerting` holds. */
export const alertPayloadSchema = z.object({
  alert_id: z.string(),
  tenant_id: z.string(),
  decision_id: z.string(),
  action_type: actionTypeSchema,
  playbook_id: z.string(),
  playbook_version: z.number().int(),
  title: z.string(),
  body: z.string(),
  severity: severitySchema,
}) satisfies z.ZodType<AlertPayload>;

export const ALERT_DELIVERY_WORKFLOW_TYPE = 'alertDeliveryWorkflow';

/** Started by decideWorkflow after the decision is committed (ParentClosePolicy ABANDON), one per decision. */
export const alertDeliveryInputSchema = z.object({
  tenant_id: z.string(),
  decision_id: z.string(),
  alerts: z.array(alertPayloadSchema).min(1),
});
export type AlertDeliveryInput = z.infer<typeof alertDeliveryInputSchema>;

/**
 * delivered: the alerting service accepted it (2xx); refused: it answered a 4xx other than 408/429, not retried;
 * outbox: no alerting service is configured, the alert is recorded in the outbox surfaces read; gave_up: still not
 * accepted when the delivery's retry window closed (it stays recorded in the outbox).
 */
export const ALERT_DELIVERY_OUTCOMES = ['delivered', 'refused', 'outbox', 'gave_up'] as const;
export type AlertDeliveryOutcome = (typeof ALERT_DELIVERY_OUTCOMES)[number];

export interface AlertDeliveryResult {
  alert_id: string;
  outcome: AlertDeliveryOutcome;
  /** The alerting service's status for a refusal. */
  status?: number;
}
