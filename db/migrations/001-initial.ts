/** The engine's first schema. DDL is plain SQL so what runs is exactly what a reviewer reads. */
export const name = '001-initial';
export const up = `
CREATE TABLE IF NOT EXISTS tenant_policies (
  tenant_id    text PRIMARY KEY,
  version      integer NOT NULL,
  policy       jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS actor_preferences (
  tenant_id    text NOT NULL,
  actor_id     text NOT NULL,
  preferences  jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, actor_id)
);

CREATE TABLE IF NOT EXISTS playbooks (
  playbook_id        text PRIMARY KEY,
  tenant_id          text NOT NULL,
  name               text NOT NULL,
  category           text NOT NULL,
  status             text NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
  latest_version     integer NOT NULL,
  published_version  integer,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS playbooks_tenant_idx ON playbooks (tenant_id, status);

CREATE TABLE IF NOT EXISTS playbook_versions (
  playbook_id  text NOT NULL REFERENCES playbooks (playbook_id),
  version      integer NOT NULL,
  definition   jsonb NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (playbook_id, version)
);

CREATE TABLE IF NOT EXISTS decisions (
  decision_id      text PRIMARY KEY,
  tenant_id        text NOT NULL,
  actor_id         text NOT NULL,
  surface          text NOT NULL,
  outcome          text NOT NULL,
  idempotency_key  text,
  request_sha256   text NOT NULL,
  workflow_id      text NOT NULL,
  receipt_id       text NOT NULL,
  latency_ms       double precision NOT NULL,
  body             jsonb NOT NULL,
  created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS decisions_idempotency_idx ON decisions (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS decisions_actor_idx ON decisions (tenant_id, actor_id, created_at DESC);

CREATE TABLE IF NOT EXISTS decision_outcomes (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL,
  decision_id  text NOT NULL REFERENCES decisions (decision_id) ON DELETE CASCADE,
  action_id    text NOT NULL,
  outcome      text NOT NULL,
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS decision_outcomes_tenant_idx ON decision_outcomes (tenant_id, recorded_at);

CREATE TABLE IF NOT EXISTS signing_keys (
  key_id           text PRIMARY KEY,
  public_key       text NOT NULL,
  private_key_pem  text,
  status           text NOT NULL CHECK (status IN ('active', 'retired')),
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS receipts (
  receipt_id    text PRIMARY KEY,
  tenant_id     text NOT NULL,
  decision_id   text NOT NULL,
  kind          text NOT NULL,
  seq           bigint NOT NULL,
  receipt_hash  text NOT NULL,
  body          jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  UNIQUE (tenant_id, seq)
);
CREATE INDEX IF NOT EXISTS receipts_decision_idx ON receipts (decision_id);

-- One row per tenant: the head of that tenant's hash chain, locked while a receipt is appended.
CREATE TABLE IF NOT EXISTS receipt_chain_heads (
  tenant_id        text PRIMARY KEY,
  seq              bigint NOT NULL,
  last_receipt_id  text,
  last_hash        text
);

CREATE TABLE IF NOT EXISTS audit_log (
  id             bigserial PRIMARY KEY,
  tenant_id      text NOT NULL,
  actor_sub      text NOT NULL,
  action         text NOT NULL,
  resource_type  text NOT NULL,
  resource_id    text NOT NULL,
  before         jsonb,
  after          jsonb,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_log_tenant_idx ON audit_log (tenant_id, at);

-- Behavioural signals published by UBI; the engine's context assembly reads the recent ones.
CREATE TABLE IF NOT EXISTS ubi_signals (
  signal_id     text PRIMARY KEY,
  tenant_id     text NOT NULL,
  actor_id      text NOT NULL,
  actor_type    text NOT NULL,
  dimension     text NOT NULL,
  signal_type   text NOT NULL,
  severity      text NOT NULL,
  value         double precision NOT NULL,
  baseline      jsonb NOT NULL,
  score         double precision NOT NULL,
  explanation   jsonb NOT NULL,
  window_start  timestamptz NOT NULL,
  window_end    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ubi_signals_actor_idx ON ubi_signals (tenant_id, actor_id, created_at DESC);
`;
