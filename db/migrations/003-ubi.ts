/**
 * UBI storage (ADR 0006): events keyed by (tenant_id, event_id) so a repeat is stored once; a dirty (actor, day) set
 * the feature micro-batcher drains; daily feature values (the series baselines read); current window features;
 * baselines; versioned tenant config. ubi_signals exists since 001 (context assembly reads it): it gains columns.
 */
export const name = '003-ubi';
export const up = `
CREATE TABLE IF NOT EXISTS ubi_events (
  tenant_id    text NOT NULL,
  event_id     text NOT NULL,
  actor_id     text NOT NULL,
  actor_type   text NOT NULL,
  event_type   text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  source       text NOT NULL,
  team_id      text,
  repo_id      text,
  properties   jsonb NOT NULL DEFAULT '{}',
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX IF NOT EXISTS ubi_events_actor_idx ON ubi_events (tenant_id, actor_id, occurred_at);
CREATE INDEX IF NOT EXISTS ubi_events_pr_idx ON ubi_events (tenant_id, (properties->>'pr_id')) WHERE event_type = 'pr_opened';
CREATE INDEX IF NOT EXISTS ubi_events_review_idx ON ubi_events (tenant_id, (properties->>'pr_id')) WHERE event_type = 'pr_review_submitted';
CREATE INDEX IF NOT EXISTS ubi_events_occurred_idx ON ubi_events (occurred_at);

CREATE TABLE IF NOT EXISTS ubi_actors (
  tenant_id    text NOT NULL,
  actor_id     text NOT NULL,
  actor_type   text NOT NULL,
  team_id      text,
  first_seen   timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, actor_id)
);
CREATE INDEX IF NOT EXISTS ubi_actors_team_idx ON ubi_actors (tenant_id, team_id);

-- What the micro-batcher has still to compute: one row per (actor, UTC day) touched by new events.
CREATE TABLE IF NOT EXISTS ubi_dirty (
  tenant_id    text NOT NULL,
  actor_id     text NOT NULL,
  day          date NOT NULL,
  marked_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant_id, actor_id, day)
);
CREATE INDEX IF NOT EXISTS ubi_dirty_marked_idx ON ubi_dirty (marked_at);

CREATE TABLE IF NOT EXISTS ubi_feature_daily (
  tenant_id    text NOT NULL,
  actor_id     text NOT NULL,
  actor_type   text NOT NULL,
  feature      text NOT NULL,
  day          date NOT NULL,
  value        double precision NOT NULL,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, actor_id, feature, day)
);
CREATE INDEX IF NOT EXISTS ubi_feature_daily_day_idx ON ubi_feature_daily (day);

CREATE TABLE IF NOT EXISTS ubi_features (
  tenant_id    text NOT NULL,
  actor_id     text NOT NULL,
  time_window  text NOT NULL,
  feature      text NOT NULL,
  value        double precision NOT NULL,
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, actor_id, time_window, feature)
);

-- scope 'personal' (subject = actor id) or 'team' (subject = team id); actor_type keeps humans and agents apart.
CREATE TABLE IF NOT EXISTS ubi_baselines (
  tenant_id     text NOT NULL,
  scope         text NOT NULL,
  subject_id    text NOT NULL,
  actor_type    text NOT NULL,
  feature       text NOT NULL,
  median        double precision NOT NULL,
  mad           double precision NOT NULL,
  mean_abs_dev  double precision NOT NULL,
  samples       integer NOT NULL,
  active_days   integer NOT NULL,
  state         text NOT NULL,
  members       integer NOT NULL DEFAULT 1,
  as_of         date NOT NULL,
  computed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scope, subject_id, actor_type, feature)
);

-- The hour-of-week profile and cold-start state per actor (one row, independent of features).
CREATE TABLE IF NOT EXISTS ubi_actor_profiles (
  tenant_id     text NOT NULL,
  actor_id      text NOT NULL,
  actor_type    text NOT NULL,
  active_days   integer NOT NULL,
  state         text NOT NULL,
  hour_profile  jsonb NOT NULL,
  as_of         date NOT NULL,
  computed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, actor_id)
);

CREATE TABLE IF NOT EXISTS ubi_tenant_config (
  tenant_id    text NOT NULL,
  version      integer NOT NULL,
  config       jsonb NOT NULL,
  updated_by   text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

ALTER TABLE ubi_signals ADD COLUMN IF NOT EXISTS team_id text;
ALTER TABLE ubi_signals ADD COLUMN IF NOT EXISTS config_version integer NOT NULL DEFAULT 0;
ALTER TABLE ubi_signals ADD COLUMN IF NOT EXISTS cold_start text;
ALTER TABLE ubi_signals ADD COLUMN IF NOT EXISTS published_at timestamptz;
CREATE INDEX IF NOT EXISTS ubi_signals_tenant_idx ON ubi_signals (tenant_id, created_at DESC);
CREATE INDEX IF NOT EXISTS ubi_signals_unpublished_idx ON ubi_signals (created_at) WHERE published_at IS NULL;
`;
