import type { ServiceClient } from '../../lib/clients/service-client';

export interface RenderedAlert {
  alert_id: string;
  tenant_id: string;
  decision_id: string;
  title: string;
  body: string;
  severity?: string;
  [key: string]: unknown;
}

export interface AlertingClient {
  /** `POST /v1/alerts` with the rendered alert; the alert id is the idempotency key. 2xx = accepted. */
  sendAlert(alert: RenderedAlert): Promise<void>;
}

export function createAlertingClient(client: ServiceClient): AlertingClient {
  return {
    async sendAlert(alert) {
      await client.request('POST', '/v1/alerts', { body: alert, idempotencyKey: alert.alert_id });
    },
  };
}
