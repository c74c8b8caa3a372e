/**
 * Issue 9 (ADR 0016): the admin audit log becomes a hash chain per tenant, and tenant metrics get what they aggregate
 * over without loading rows into Node.
 *
 * Audit chain. Each entry gets a public `audit_id`, its place in its tenant's chain (`seq`), the digests of its
 * redacted before/after values, `prev_hash` and `hash` (api/audit and lib/audit-chain.ts say what is hashed). The head
 * of each tenant's chain is a row of `audit_chain_heads`, locked by the mutation's own transaction while it appends,
 * so concurrent admin mutations of one tenant still form one chain, and removing the newest entry shows (the head
 * names a seq no row has). Rows written before this migration keep `seq` and `hash` NULL: the chain starts after
 * them (their `at` order cannot be re-hashed here in SQL with RFC 8785's canonical JSON, and the append-only trigger
 * already keeps them as written); the read route reports them as unchained, and a NULL-hash row after the first
 * chained one breaks the chain.
 *
 * The retention purge still clears before/after past retention: the digests stay, so purged entries stay verifiable.
 * The trigger now admits only that (every other column, the new ones included, must stay as it was).
 *
 * Metrics. A decision's shown action types and suppression reasons become stored generated columns (computed once
 * when the row is written, existing rows included), outcomes carry their decision's actor (for the minimum group
 * size) and the "not useful" reason, and covering indexes let each aggregate read the index alone. Closed UTC days
 * and hours are rolled up once into tenant_metrics_rollups (one row per period and cell: its count and up to 100 of
 * its distinct actors, enough to tell whether a window's cell reaches a minimum group size of up to 100; ADR 0016),
 * and tenant_metrics_periods records which periods are rolled up (one with nothing in it too).
 */
export const name = '010-audit-chain-and-metrics';
export const up = `
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS audit_id text NOT NULL DEFAULT ('aud_' || gen_random_uuid());
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS seq bigint;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS before_sha256 text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS after_sha256 text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS prev_hash text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS hash text;
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_audit_id_idx ON audit_log (audit_id);
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_chain_idx ON audit_log (tenant_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_log_tenant_type_idx ON audit_log (tenant_id, resource_type, id DESC);

CREATE TABLE IF NOT EXISTS audit_chain_heads (
  tenant_id      text PRIMARY KEY,
  seq            bigint NOT NULL,
  last_audit_id  text,
  last_hash      text
);

CREATE OR REPLACE FUNCTION mmm_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Nested: plpgsql does not promise to stop at the first false condition, and receipts have no before/after.
  IF TG_TABLE_NAME = 'audit_log' AND TG_OP = 'UPDATE' THEN
    IF current_setting('mmm.retention_purge', true) = 'on'
       AND NEW.before IS NULL AND NEW.after IS NULL
       AND (to_jsonb(NEW) - 'before' - 'after') = (to_jsonb(OLD) - 'before' - 'after') THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = '42501', HINT = 'receipts are kept forever; audit values past retention are cleared only by mmm_purge_audit_values()';
END
$fn$;

ALTER TABLE decisions ADD COLUMN IF NOT EXISTS action_types jsonb
  GENERATED ALWAYS AS (jsonb_path_query_array(body, '$.actions[*].type')) STORED;
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS suppressed_reasons jsonb
  GENERATED ALWAYS AS (jsonb_path_query_array(body, '$.suppressed[*].reason')) STORED;
CREATE INDEX IF NOT EXISTS decisions_metrics_idx ON decisions (tenant_id, created_at)
  INCLUDE (actor_id, outcome, surface, latency_ms, action_types, suppressed_reasons);
-- The covering index above serves every read decisions_tenant_created_idx (007) served.
DROP INDEX IF EXISTS decisions_tenant_created_idx;

ALTER TABLE decision_outcomes ADD COLUMN IF NOT EXISTS actor_id text;
ALTER TABLE decision_outcomes ADD COLUMN IF NOT EXISTS reason text;
UPDATE decision_outcomes o SET actor_id = d.actor_id FROM decisions d WHERE d.decision_id = o.decision_id AND o.actor_id IS NULL;
CREATE INDEX IF NOT EXISTS decision_outcomes_metrics_idx ON decision_outcomes (tenant_id, recorded_at) INCLUDE (actor_id, outcome, reason);
DROP INDEX IF EXISTS decision_outcomes_tenant_idx;


CREATE TABLE IF NOT EXISTS tenant_metrics_rollups (
  tenant_id     text NOT NULL,
  unit          text NOT NULL CHECK (unit IN ('day', 'hour')),
  period_start  timestamptz NOT NULL,
  dim           text NOT NULL,
  key           text NOT NULL,
  cell_count    bigint NOT NULL,
  actors        text[],
  PRIMARY KEY (tenant_id, unit, period_start, dim, key)
);
CREATE TABLE IF NOT EXISTS tenant_metrics_periods (
  tenant_id     text NOT NULL,
  unit          text NOT NULL,
  period_start  timestamptz NOT NULL,
  rolled_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, unit, period_start)
);

CREATE INDEX IF NOT EXISTS action_approvals_metrics_idx ON action_approvals (tenant_id, created_at) INCLUDE (actor_id, status);
DROP INDEX IF EXISTS action_approvals_tenant_created_idx;
`;
