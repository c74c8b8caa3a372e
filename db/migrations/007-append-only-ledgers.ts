/**
 * Receipts and the audit log are append-only in the database itself, not only by the application's habit (issue 12,
 * ADR 0013): a trigger refuses UPDATE, DELETE and TRUNCATE on both. Receipts are kept forever, so nothing may change
 * one. The one exception is the retention purge clearing the `before`/`after` values of audit entries past retention:
 * it runs through mmm_purge_audit_values(), which sets a transaction-local flag the trigger checks, and even with the
 * flag the trigger admits nothing but clearing those two values (who did what, and when, stays).
 */
export const name = '007-append-only-ledgers';
export const up = `
CREATE OR REPLACE FUNCTION mmm_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Nested: plpgsql does not promise to stop at the first false condition, and receipts have no before/after.
  IF TG_TABLE_NAME = 'audit_log' AND TG_OP = 'UPDATE' THEN
    IF current_setting('mmm.retention_purge', true) = 'on'
       AND NEW.before IS NULL AND NEW.after IS NULL
       AND (NEW.id, NEW.tenant_id, NEW.actor_sub, NEW.action, NEW.resource_type, NEW.resource_id, NEW.at)
           IS NOT DISTINCT FROM (OLD.id, OLD.tenant_id, OLD.actor_sub, OLD.action, OLD.resource_type, OLD.resource_id, OLD.at) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = '42501', HINT = 'receipts are kept forever; audit values past retention are cleared only by mmm_purge_audit_values()';
END
$fn$;

DROP TRIGGER IF EXISTS receipts_append_only ON receipts;
CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts FOR EACH ROW EXECUTE FUNCTION mmm_ledger_append_only();
DROP TRIGGER IF EXISTS receipts_no_truncate ON receipts;
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts FOR EACH STATEMENT EXECUTE FUNCTION mmm_ledger_append_only();
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION mmm_ledger_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION mmm_ledger_append_only();

-- The retention purge's one way into the audit log: the flag lives only inside the calling transaction.
CREATE OR REPLACE FUNCTION mmm_purge_audit_values(p_tenant text, p_cutoff timestamptz) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  n bigint;
BEGIN
  PERFORM set_config('mmm.retention_purge', 'on', true);
  UPDATE audit_log SET before = NULL, after = NULL
   WHERE tenant_id = p_tenant AND at < p_cutoff AND (before IS NOT NULL OR after IS NOT NULL);
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('mmm.retention_purge', 'off', true);
  RETURN n;
END
$fn$;

-- Retention reads decisions, approvals and the outbox of one tenant by age.
CREATE INDEX IF NOT EXISTS decisions_tenant_created_idx ON decisions (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS action_outbox_tenant_created_idx ON action_outbox (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS action_approvals_tenant_created_idx ON action_approvals (tenant_id, created_at);
`;
