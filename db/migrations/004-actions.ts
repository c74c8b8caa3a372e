/**
 * Mentor and multiplier actions: the approval of each multiplier action (a projection of its approval workflow, so
 * routes can find the action, its tenant and its actor without asking Temporal), one row per approval transition
 * (each with its receipt; the primary key makes a retried activity write once), and the outbox that records a
 * delegation when no edge agent or CI is configured.
 */
export const name = '004-actions';
export const up = `
CREATE TABLE IF NOT EXISTS action_approvals (
  action_id      text PRIMARY KEY,
  tenant_id      text NOT NULL,
  decision_id    text NOT NULL,
  actor_id       text NOT NULL,
  workflow_id    text NOT NULL,
  status         text NOT NULL,
  action_digest  text NOT NULL,
  required_approvals integer NOT NULL DEFAULT 0,
  expires_at     timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS action_approvals_tenant_idx ON action_approvals (tenant_id, status);

CREATE TABLE IF NOT EXISTS action_approval_transitions (
  action_id   text NOT NULL,
  seq         integer NOT NULL,
  tenant_id   text NOT NULL,
  status      text NOT NULL,
  event       text NOT NULL,
  receipt_id  text NOT NULL,
  detail      jsonb NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (action_id, seq)
);

CREATE TABLE IF NOT EXISTS action_outbox (
  outbox_id        bigserial PRIMARY KEY,
  tenant_id        text NOT NULL,
  action_id        text NOT NULL,
  target           text NOT NULL CHECK (target IN ('edge_agent', 'ci')),
  idempotency_key  text NOT NULL UNIQUE,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending',
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS action_outbox_pending_idx ON action_outbox (tenant_id, target, status, outbox_id);
`;
