/**
 * Experiments on playbooks (FR-9, ADR 0017). `experiments` holds the definition as written (jsonb, as playbook
 * versions do) with its status; at most one is active per playbook, which the database enforces. `experiment_arms` is
 * what decisions read: each arm's current weight (recomputed by the tenant's experiment Schedule), and why it is
 * paused. `experiment_exposures` is one row per (experiment, decision) the experiment touched, written with the
 * decision: its arm, whether the arm's actions were shown (for the holdout: would have been, and were withheld), and
 * the actions to join outcomes on. Results are SQL aggregates over it; rows go when their decision is purged.
 */
export const name = '011-experiments';
export const up = `
CREATE TABLE IF NOT EXISTS experiments (
  experiment_id       text PRIMARY KEY,
  tenant_id           text NOT NULL,
  playbook_id         text NOT NULL REFERENCES playbooks (playbook_id),
  status              text NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'completed')),
  definition          jsonb NOT NULL,
  -- Outcomes recorded on its decisions since the weights were last recomputed: past a threshold, the Schedule is
  -- triggered at once instead of waiting for its next minute.
  pending_outcomes    integer NOT NULL DEFAULT 0,
  weights_updated_at  timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS experiments_tenant_idx ON experiments (tenant_id, status);
CREATE UNIQUE INDEX IF NOT EXISTS experiments_one_active_idx ON experiments (playbook_id) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS experiment_arms (
  experiment_id     text NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  arm_id            text NOT NULL,
  position          integer NOT NULL,
  current_weight    double precision NOT NULL,
  probability_best  double precision,
  paused_reason     text,
  paused_at         timestamptz,
  PRIMARY KEY (experiment_id, arm_id)
);

CREATE TABLE IF NOT EXISTS experiment_exposures (
  experiment_id  text NOT NULL,
  decision_id    text NOT NULL REFERENCES decisions (decision_id) ON DELETE CASCADE,
  tenant_id      text NOT NULL,
  arm_id         text NOT NULL,
  actor_id       text NOT NULL,
  holdout        boolean NOT NULL,
  shown          boolean NOT NULL,
  action_ids     text[] NOT NULL,
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (experiment_id, decision_id)
);
CREATE INDEX IF NOT EXISTS experiment_exposures_arm_idx ON experiment_exposures (experiment_id, arm_id, created_at);
CREATE INDEX IF NOT EXISTS experiment_exposures_decision_idx ON experiment_exposures (decision_id);
-- The tenant metrics' experiments section reads a tenant's exposures of a window.
CREATE INDEX IF NOT EXISTS experiment_exposures_tenant_idx ON experiment_exposures (tenant_id, created_at);
`;
