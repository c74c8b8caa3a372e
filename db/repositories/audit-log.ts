import crypto from 'node:crypto';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { redact } from '../../domain/redaction';
import type { AuditEntryView } from '../../domain/model/audit';
import { entryHash, finishWalk, startWalk, valueDigest, walkEntries, type ChainWalk, type StoredEntry } from '../../lib/audit-chain';

export interface AuditEntry {
  tenantId: string;
  /** Who made the change (the token's sub). */
  actorSub: string;
  /** `<resource>.<verb>`, e.g. `playbook.publish`. */
  action: string;
  resourceType: string;
  resourceId: string;
  /** State before and after; redacted here, never stored as given. null: there is none (created, erased). */
  before: unknown;
  after: unknown;
}

interface AuditRow {
  id: string;
  audit_id: string;
  tenant_id: string;
  seq: string | null;
  at: Date;
  actor_sub: string;
  action: string;
  resource_type: string;
  resource_id: string;
  before: unknown;
  after: unknown;
  before_sha256: string | null;
  after_sha256: string | null;
  prev_hash: string | null;
  hash: string | null;
}

/** Redacted, then through JSON once: what is hashed is exactly what jsonb will give back (no undefined, no Dates). */
function stored(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(JSON.stringify(redact(value)));
}

function toEntry(r: AuditRow): StoredEntry & { values_purged: boolean } {
  return {
    audit_id: r.audit_id, tenant_id: r.tenant_id, seq: r.seq === null ? null : Number(r.seq), at: new Date(r.at).toISOString(),
    actor_id: r.actor_sub, action: r.action, resource_type: r.resource_type, resource_id: r.resource_id,
    before: r.before, after: r.after, before_sha256: r.before_sha256, after_sha256: r.after_sha256,
    values_purged: (r.before === null && r.before_sha256 !== null) || (r.after === null && r.after_sha256 !== null),
    prev_hash: r.prev_hash, hash: r.hash,
  };
}

/** How many entries a verification reads at a time. */
const VERIFY_PAGE = 1000;

/**
 * NFR-7: every admin mutation, with redacted before and after state, appended to its tenant's hash chain in the
 * mutation's own transaction (so there is never a change without its entry, nor an entry without its change).
 */
export function createAuditLog(sequelize: Sequelize) {
  return {
    /**
     * The one call every admin mutation makes, inside its own transaction. The tenant's chain head row is locked
     * until that transaction ends: concurrent mutations of one tenant append one after another, other tenants never wait.
     */
    async record(entry: AuditEntry, transaction: Transaction): Promise<{ audit_id: string; hash: string }> {
      const [head] = await sequelize.query<{ seq: string; last_hash: string | null }>(
        `INSERT INTO audit_chain_heads (tenant_id, seq) VALUES (:tenantId, 0)
         ON CONFLICT (tenant_id) DO UPDATE SET seq = audit_chain_heads.seq
         RETURNING seq, last_hash`,
        { replacements: { tenantId: entry.tenantId }, transaction, type: QueryTypes.SELECT },
      );
      const before = stored(entry.before);
      const after = stored(entry.after);
      const fields = {
        audit_id: `aud_${crypto.randomUUID()}`, tenant_id: entry.tenantId, seq: Number(head.seq) + 1, at: new Date().toISOString(),
        actor_id: entry.actorSub, action: entry.action, resource_type: entry.resourceType, resource_id: entry.resourceId,
        before_sha256: valueDigest(before), after_sha256: valueDigest(after), prev_hash: head.last_hash,
      };
      const hash = entryHash(fields);
      await sequelize.query(
        `INSERT INTO audit_log (audit_id, tenant_id, seq, at, actor_sub, action, resource_type, resource_id, before, after, before_sha256, after_sha256, prev_hash, hash)
         VALUES (:audit_id, :tenant_id, :seq, :at, :actor_id, :action, :resource_type, :resource_id, CAST(:before AS jsonb), CAST(:after AS jsonb),
                 :before_sha256, :after_sha256, :prev_hash, :hash)`,
        { replacements: { ...fields, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after), hash }, transaction },
      );
      await sequelize.query('UPDATE audit_chain_heads SET seq = :seq, last_audit_id = :audit_id, last_hash = :hash WHERE tenant_id = :tenant_id', {
        replacements: { seq: fields.seq, audit_id: fields.audit_id, hash, tenant_id: entry.tenantId },
        transaction,
      });
      return { audit_id: fields.audit_id, hash };
    },

    /** Newest first, optionally from `since` and of one resource type. */
    async list(tenantId: string, opts: { since?: string; resourceType?: string; limit?: number } = {}): Promise<AuditEntryView[]> {
      const rows = await sequelize.query<AuditRow>(
        `SELECT * FROM audit_log WHERE tenant_id = :tenantId
           AND (CAST(:since AS timestamptz) IS NULL OR at >= CAST(:since AS timestamptz))
           AND (CAST(:type AS text) IS NULL OR resource_type = CAST(:type AS text))
         ORDER BY id DESC LIMIT :limit`,
        { replacements: { tenantId, since: opts.since ?? null, type: opts.resourceType ?? null, limit: opts.limit ?? 100 }, type: QueryTypes.SELECT },
      );
      return rows.map(toEntry);
    },

    /** Verifies the tenant's whole chain, in insertion order, a page at a time, against its head row. */
    async verify(tenantId: string): Promise<ChainWalk> {
      let walk = startWalk();
      for (let after = '0'; ; ) {
        const rows = await sequelize.query<AuditRow>('SELECT * FROM audit_log WHERE tenant_id = :tenantId AND id > :after ORDER BY id LIMIT :page', {
          replacements: { tenantId, after, page: VERIFY_PAGE },
          type: QueryTypes.SELECT,
        });
        walk = walkEntries(walk, rows.map(toEntry));
        if (walk.broken || rows.length < VERIFY_PAGE) break;
        after = rows[rows.length - 1].id;
      }
      const [head] = await sequelize.query<{ seq: string; last_hash: string | null }>('SELECT seq, last_hash FROM audit_chain_heads WHERE tenant_id = :tenantId', {
        replacements: { tenantId },
        type: QueryTypes.SELECT,
      });
      return finishWalk(walk, head ? { seq: Number(head.seq), last_hash: head.last_hash } : null);
    },
  };
}
export type AuditLog = ReturnType<typeof createAuditLog>;
