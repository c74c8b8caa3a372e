import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';

/* Row shapes. JSON columns hold the validated contract objects as they are on the wire. */
export interface TenantPolicyRow { tenant_id: string; version: number; policy: unknown; updated_at: Date }
export interface ActorPreferencesRow { tenant_id: string; actor_id: string; preferences: unknown; updated_at: Date }
export interface PlaybookRow {
  playbook_id: string; tenant_id: string; name: string; category: string;
  status: 'draft' | 'published' | 'archived'; latest_version: number; published_version: number | null;
  created_at: Date; updated_at: Date;
}
export interface PlaybookVersionRow { playbook_id: string; version: number; definition: unknown; created_by: string; created_at: Date }
export interface DecisionRow {
  decision_id: string; tenant_id: string; actor_id: string; surface: string; outcome: string;
  idempotency_key: string | null; request_sha256: string; workflow_id: string; workflow_run_id: string | null; update_id: string | null; trace_id?: string | null; receipt_id: string;
  latency_ms: number; body: unknown; created_at: Date;
}
export interface DecisionOutcomeRow {
  id?: number; tenant_id: string; decision_id: string; action_id: string; actor_id: string; outcome: string; reason: string | null; recorded_by: string; recorded_at?: Date;
}
export interface SigningKeyRow { key_id: string; public_key: string; private_key_pem: string | null; status: 'active' | 'retired'; created_at?: Date }
export interface ReceiptRow {
  receipt_id: string; tenant_id: string; decision_id: string; kind: string; seq: number; receipt_hash: string; body: unknown; created_at: Date;
}

export interface Models {
  TenantPolicy: ModelStatic<Model<TenantPolicyRow>>;
  ActorPreferences: ModelStatic<Model<ActorPreferencesRow>>;
  Playbook: ModelStatic<Model<PlaybookRow>>;
  PlaybookVersion: ModelStatic<Model<PlaybookVersionRow>>;
  Decision: ModelStatic<Model<DecisionRow>>;
  DecisionOutcome: ModelStatic<Model<DecisionOutcomeRow>>;
  SigningKey: ModelStatic<Model<SigningKeyRow>>;
  Receipt: ModelStatic<Model<ReceiptRow>>;
}

// Attribute objects are factories: Sequelize writes into the objects it is given, so none may be shared.
const now = () => ({ type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW });

/** Models map the tables the migrations create; the migrations, not sync(), own the schema. */
export function defineModels(s: Sequelize): Models {
  const text = () => ({ type: DataTypes.TEXT, allowNull: false });
  const json = () => ({ type: DataTypes.JSONB, allowNull: false });
  return {
    TenantPolicy: s.define('tenant_policies', {
      tenant_id: { ...text(), primaryKey: true }, version: { type: DataTypes.INTEGER, allowNull: false }, policy: json(), updated_at: now(),
    }),
    ActorPreferences: s.define('actor_preferences', {
      tenant_id: { ...text(), primaryKey: true }, actor_id: { ...text(), primaryKey: true }, preferences: json(), updated_at: now(),
    }),
    Playbook: s.define('playbooks', {
      playbook_id: { ...text(), primaryKey: true }, tenant_id: text(), name: text(), category: text(), status: text(),
      latest_version: { type: DataTypes.INTEGER, allowNull: false }, published_version: { type: DataTypes.INTEGER, allowNull: true },
      created_at: now(), updated_at: now(),
    }),
    PlaybookVersion: s.define('playbook_versions', {
      playbook_id: { ...text(), primaryKey: true }, version: { type: DataTypes.INTEGER, primaryKey: true }, definition: json(),
      created_by: text(), created_at: now(),
    }),
    Decision: s.define('decisions', {
      decision_id: { ...text(), primaryKey: true }, tenant_id: text(), actor_id: text(), surface: text(), outcome: text(),
      idempotency_key: { type: DataTypes.TEXT, allowNull: true }, request_sha256: text(), workflow_id: text(),
      workflow_run_id: { type: DataTypes.TEXT, allowNull: true }, update_id: { type: DataTypes.TEXT, allowNull: true },
      trace_id: { type: DataTypes.TEXT, allowNull: true }, receipt_id: text(),
      latency_ms: { type: DataTypes.DOUBLE, allowNull: false }, body: json(), created_at: now(),
    }),
    DecisionOutcome: s.define('decision_outcomes', {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true }, tenant_id: text(), decision_id: text(), action_id: text(),
      actor_id: text(), outcome: text(), reason: { type: DataTypes.TEXT, allowNull: true }, recorded_by: text(), recorded_at: now(),
    }),
    SigningKey: s.define('signing_keys', {
      key_id: { ...text(), primaryKey: true }, public_key: text(), private_key_pem: { type: DataTypes.TEXT, allowNull: true },
      status: text(), created_at: now(),
    }),
    Receipt: s.define('receipts', {
      receipt_id: { ...text(), primaryKey: true }, tenant_id: text(), decision_id: text(), kind: text(),
      seq: { type: DataTypes.BIGINT, allowNull: false }, receipt_hash: text(), body: json(), created_at: now(),
    }),
  };
}
