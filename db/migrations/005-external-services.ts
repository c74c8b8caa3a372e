/**
 * ERIS emission outbox (ADR 0009). Once a deployment has configured ERIS (receipt_emission_state.enabled, set at start
 * by a worker with ERIS_BASE_URL, which also queues the ledger's history), every receipt the ledger appends, whoever
 * appends it (decisions, approval transitions, UBI erasures, …), gets a pending emission row from a trigger in the
 * same transaction: a receipt can never be stored without being queued for ERIS, nor queued without being stored.
 * Before that, nothing is queued: a deployment without ERIS pays no extra write per receipt and keeps no growing
 * table. The drainer (workflows/receipts) claims due rows with SKIP LOCKED, so any number of workers share the work
 * without sending a receipt twice at the same time.
 */
export const name = '005-external-services';
export const up = `
CREATE TABLE IF NOT EXISTS receipt_emissions (
  receipt_id       text PRIMARY KEY REFERENCES receipts (receipt_id),
  tenant_id        text NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS receipt_emissions_due_idx ON receipt_emissions (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX IF NOT EXISTS receipt_emissions_tenant_idx ON receipt_emissions (tenant_id);

-- One row: whether receipts are queued for ERIS (sticky: once a deployment has ERIS, receipts are never left out).
CREATE TABLE IF NOT EXISTS receipt_emission_state (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  enabled_at  timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION queue_receipt_emission() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM receipt_emission_state) THEN
    INSERT INTO receipt_emissions (receipt_id, tenant_id) VALUES (NEW.receipt_id, NEW.tenant_id) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS receipts_queue_emission ON receipts;
CREATE TRIGGER receipts_queue_emission AFTER INSERT ON receipts FOR EACH ROW EXECUTE FUNCTION queue_receipt_emission();

`;
