import { entryHash, finishWalk, startWalk, valueDigest, walkEntries, type StoredEntry } from '../../lib/audit-chain';

function chain(n: number): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const after = { version: i };
    const fields = {
      audit_id: `aud_${i}`, tenant_id: 't', seq: i, at: `2026-01-0${i}T00:00:00.000Z`, actor_id: 'admin', action: 'policy.put',
      resource_type: 'tenant_policy', resource_id: 't', before_sha256: null, after_sha256: valueDigest(after), prev_hash: out[i - 2]?.hash ?? null,
    };
    out.push({ ...fields, before: null, after, hash: entryHash(fields) });
  }
  return out;
}
const legacy = (id: string): StoredEntry => ({ audit_id: id, tenant_id: 't', seq: null, at: '2025-12-01T00:00:00.000Z', actor_id: 'a', action: 'x', resource_type: 'playbook', resource_id: 'p', before: null, after: null, before_sha256: null, after_sha256: null, prev_hash: null, hash: null });

describe('the audit chain walk', () => {
  it('when entries written before the chain come first, then they are counted as unchained and the chain after them verifies', () => {
    const walk = finishWalk(walkEntries(startWalk(), [legacy('old1'), legacy('old2'), ...chain(3)]), { seq: 3, last_hash: chain(3)[2].hash });

    expect(walk).toEqual(expect.objectContaining({ verified: 3, unchained: 2, broken: null }));
  });

  it('when the chain is walked in two pages, then the answer is the same as in one', () => {
    const c = chain(4);
    const paged = walkEntries(walkEntries(startWalk(), c.slice(0, 2)), c.slice(2));

    expect(paged).toEqual(walkEntries(startWalk(), c));
  });

  it('when a tenant has no entries and no head, then the chain is whole', () => {
    expect(finishWalk(startWalk(), null).broken).toBeNull();
  });

  it('when an entry is swapped with a recomputed hash but the next still points at the old one, then the next is broken', () => {
    const c = chain(3);
    const forged = { ...c[1], after: { version: 99 }, after_sha256: valueDigest({ version: 99 }) };
    forged.hash = entryHash({ ...forged, seq: 2 });

    const walk = walkEntries(startWalk(), [c[0], forged, c[2]]);

    expect(walk.broken).toEqual({ audit_id: 'aud_3', seq: 3, reason: 'prev_hash_mismatch' });
  });
});
