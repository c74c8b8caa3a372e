/**
 * The admin audit log's hash chain (NFR-7, ADR 0016). An entry's `hash` is SHA-256 over the RFC 8785 canonical JSON of
 * the entry without `hash`, where before/after stand as their own digests (`before_sha256`, `after_sha256`): retention
 * may clear the values (migration 007), and a chain over digests stays verifiable after that. Anyone holding the
 * entries can verify them with these functions alone.
 */
import { canonicalJson, sha256Hex } from './receipt-crypto';

/** The fields an entry's hash covers, as they are on the wire. */
export interface ChainedFields {
  audit_id: string;
  tenant_id: string;
  seq: number;
  at: string;
  actor_id: string;
  action: string;
  resource_type: string;
  resource_id: string;
  before_sha256: string | null;
  after_sha256: string | null;
  prev_hash: string | null;
}

export interface StoredEntry extends Omit<ChainedFields, 'seq'> {
  seq: number | null;
  before: unknown;
  after: unknown;
  hash: string | null;
}

/** The digest of a before/after value: null for no value, so "nothing" and "cleared" are told apart by the digest. */
export function valueDigest(value: unknown): string | null {
  return value === null || value === undefined ? null : sha256Hex(canonicalJson(value));
}

export function entryHash(fields: ChainedFields): string {
  const { audit_id, tenant_id, seq, at, actor_id, action, resource_type, resource_id, before_sha256, after_sha256, prev_hash } = fields;
  return sha256Hex(canonicalJson({ audit_id, tenant_id, seq, at, actor_id, action, resource_type, resource_id, before_sha256, after_sha256, prev_hash }));
}

export type ChainBreakReason = 'hash_mismatch' | 'prev_hash_mismatch' | 'value_digest_mismatch' | 'seq_gap' | 'unchained_entry' | 'head_mismatch';
export interface ChainBreak {
  audit_id: string | null;
  seq: number | null;
  reason: ChainBreakReason;
}

/**
 * Walks a tenant's chain in order, one page at a time (`state` carries what the next page needs), and returns the
 * first entry that does not verify. Entries without a seq before the first chained one were written before the
 * chain existed and are only counted; one after it is a break (nothing writes such a row any more).
 */
export interface ChainWalk {
  verified: number;
  unchained: number;
  last: { seq: number; hash: string; audit_id: string } | null;
  broken: ChainBreak | null;
}

export function startWalk(): ChainWalk {
  return { verified: 0, unchained: 0, last: null, broken: null };
}

export function walkEntries(walk: ChainWalk, entries: StoredEntry[]): ChainWalk {
  const w = { ...walk };
  for (const e of entries) {
    if (w.broken) break;
    const at = (reason: ChainBreakReason): ChainBreak => ({ audit_id: e.audit_id, seq: e.seq, reason });
    if (e.seq === null || e.hash === null) {
      if (w.last) w.broken = at('unchained_entry');
      else w.unchained++;
      continue;
    }
    const expectedSeq = (w.last?.seq ?? 0) + 1;
    if (e.seq !== expectedSeq) w.broken = at('seq_gap');
    else if (e.prev_hash !== (w.last?.hash ?? null)) w.broken = at('prev_hash_mismatch');
    else if ((e.before !== null && valueDigest(e.before) !== e.before_sha256) || (e.after !== null && valueDigest(e.after) !== e.after_sha256)) w.broken = at('value_digest_mismatch');
    else if (entryHash({ ...e, seq: e.seq }) !== e.hash) w.broken = at('hash_mismatch');
    else {
      w.verified++;
      w.last = { seq: e.seq, hash: e.hash, audit_id: e.audit_id };
    }
  }
  return w;
}

/** The chain's end must be what the head row says: an entry removed from the end leaves the head pointing past it. */
export function finishWalk(walk: ChainWalk, head: { seq: number; last_hash: string | null } | null): ChainWalk {
  if (walk.broken) return walk;
  const seq = walk.last?.seq ?? 0;
  const hash = walk.last?.hash ?? null;
  if ((head?.seq ?? 0) !== seq || (head?.last_hash ?? null) !== hash) return { ...walk, broken: { audit_id: null, seq: seq + 1, reason: 'head_mismatch' } };
  return walk;
}
