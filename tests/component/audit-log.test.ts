/**
 * The admin audit log (NFR-7) through HTTP: every admin mutation goes in with redacted before and after, the read
 * route answers newest first with its filters, and the per-tenant hash chain shows an entry altered or removed with
 * SQL (the append-only trigger switched off, as someone with the database's owner rights could).
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { useTestApp } from '../support/harness';
import { event, ingestEvents } from '../support/ubi-fakes';
import { expectEnvelope, fieldsOf, newTenant, publishPlaybook, putPolicy, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(90000);

const app = useTestApp();

const auditPath = (fx: TenantFixture, query = '') => `/v1/mmm/tenants/${fx.tenant}/audit${query}`;
const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const digest = (v: unknown) => (v === null ? null : sha256(canonicalize(v) as string));

/** Recomputed here from the documented rule, not with the product's own helper. */
function expectedHash(e: Record<string, unknown>): string {
  const { hash: _h, before: _b, after: _a, values_purged: _p, ...hashed } = e;
  return sha256(canonicalize(hashed) as string);
}

async function audit(fx: TenantFixture, query = '') {
  const res = await app.request('GET', auditPath(fx, query), { token: fx.admin });
  if (res.status !== 200) throw new Error(`GET audit gave ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Runs statements with the append-only trigger off, in one transaction (the tamper the chain is there to show). */
async function tamper(statement: string, replacements: Record<string, unknown>) {
  const seq = app.runtime.repos.sequelize;
  await seq.transaction(async (transaction) => {
    await seq.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only', { transaction });
    await seq.query(statement, { transaction, replacements });
    await seq.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only', { transaction });
  });
}

/** Three policy writes: a chain of three entries. */
async function threeEntries(fx: TenantFixture) {
  for (const n of [3, 4, 5]) await putPolicy(app, fx, { max_nudges_per_window: n });
  return (await audit(fx)).entries as Array<Record<string, any>>;
}

describe('every admin mutation is audited', () => {
  it('when an admin changes playbooks, policy, preferences, UBI config, erases an actor and recomputes, then each is one entry newest first, with redacted before and after, and the chain verifies offline', async () => {
    const fx = newTenant(app, 'audit');
    const pb = await publishPlaybook(app, fx.admin, requestPlaybook());
    await putPolicy(app, fx, { max_nudges_per_window: 9 });
    expect((await app.request('PUT', '/v1/mmm/actors/alice/preferences', { token: fx.admin, body: { opt_out_categories: ['focus'] } })).status).toBe(200);
    expect((await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { min_group_size: 7 } })).status).toBe(200);
    await ingestEvents(app, fx.service, [event({ tenant_id: fx.tenant, actor_id: 'leaver' }, 'ide_session', new Date(Date.now() - 60_000), { duration_ms: 1000 })]);
    const erased = await app.request('DELETE', '/v1/ubi/actors/leaver', { token: fx.admin });
    expect(erased.status).toBe(200);
    const recompute = await app.request('POST', `/v1/ubi/tenants/${fx.tenant}/baselines/recompute`, { token: fx.admin });
    expect(recompute.status).toBe(202);

    const body = await audit(fx);

    expect(body.chain_ok).toBe(true);
    expect(body.first_broken).toBeNull();
    expect(body.verified_entries).toBe(7);
    expect(body.unchained_entries).toBe(0);
    const entries = body.entries as Array<Record<string, any>>;
    expect(entries.map((e) => [e.action, e.resource_type, e.actor_id])).toEqual([
      ['ubi.recompute_baselines', 'ubi_recompute', 'admin-1'],
      ['ubi.erase_actor', 'ubi_erasure', 'admin-1'],
      ['ubi_config.put', 'ubi_config', 'admin-1'],
      ['preferences.put', 'preferences', 'admin-1'],
      ['policy.put', 'tenant_policy', 'admin-1'],
      ['playbook.publish', 'playbook', 'admin-1'],
      ['playbook.create', 'playbook', 'admin-1'],
    ]);
    const [rec, erase, ubiConfig, prefs, policy, publish] = entries;
    expect(rec.after).toEqual({ workflow_id: recompute.body.workflow_id, run_id: recompute.body.run_id });
    // The erasure names the actor by digest only, as its receipt does.
    expect(JSON.stringify(erase)).not.toContain('leaver');
    expect(erase.after).toEqual(expect.objectContaining({ receipt_id: erased.body.receipt_id, erased: erased.body.erased }));
    expect(ubiConfig.before).toBeNull();
    expect(ubiConfig.after).toEqual(expect.objectContaining({ version: 1, min_group_size: 7 }));
    expect(prefs).toEqual(expect.objectContaining({ resource_id: 'alice', before: expect.objectContaining({ opt_out_categories: [] }), after: expect.objectContaining({ opt_out_categories: ['focus'] }) }));
    expect(policy.after).toEqual(expect.objectContaining({ max_nudges_per_window: 9 }));
    expect(publish.resource_id).toBe(pb.playbook_id);

    // The chain, checked from the answer alone: seq 1..7, each prev_hash the previous hash, each hash and digest as documented.
    const ordered = [...entries].reverse();
    ordered.forEach((e, i) => {
      expect(e.seq).toBe(i + 1);
      expect(e.prev_hash).toBe(i === 0 ? null : ordered[i - 1].hash);
      expect(e.before_sha256).toBe(digest(e.before));
      expect(e.after_sha256).toBe(digest(e.after));
      expect(e.hash).toBe(expectedHash(e));
      expect(e.audit_id).toMatch(/^aud_[0-9a-f-]{36}$/);
    });
  });

  it('when a second UBI config is written, then its entry has the first as before', async () => {
    const fx = newTenant(app, 'audit-ubi');
    await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { min_group_size: 6 } });
    await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { min_group_size: 8 } });

    const [second] = (await audit(fx, '?resource_type=ubi_config')).entries;

    expect(second.before).toEqual(expect.objectContaining({ version: 1, min_group_size: 6 }));
    expect(second.after).toEqual(expect.objectContaining({ version: 2, min_group_size: 8 }));
  });

  it('when values carry a secret-named key, then the entry holds it redacted', async () => {
    const fx = newTenant(app, 'audit-redact');
    const pb = await publishPlaybook(app, fx.admin, requestPlaybook());

    await app.runtime.repos.sequelize.transaction((tx) =>
      app.runtime.repos.audit.record({ tenantId: fx.tenant, actorSub: 'admin-1', action: 'playbook.note', resourceType: 'playbook', resourceId: pb.playbook_id, before: null, after: { api_key: 'abc', note: 'mail jane@example.com' } }, tx),
    );
    const body = await audit(fx);

    expect(body.entries[0].after).toEqual({ api_key: '[redacted]', note: 'mail [redacted-email]' });
    expect(body.chain_ok).toBe(true);
  });

  it('when twenty admin mutations of one tenant run at once, then they form one unbroken chain numbered 1..20', async () => {
    const fx = newTenant(app, 'audit-race');

    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: i + 1 } })),
      ...Array.from({ length: 10 }, () => app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook() })),
    ]);

    expect(results.map((r) => r.status).sort()).toEqual([...Array(10).fill(200), ...Array(10).fill(201)]);
    const body = await audit(fx);
    expect(body.chain_ok).toBe(true);
    expect(body.entries.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
  });

  it('when the retention purge clears entry values, then the chain still verifies and the entries say their values were purged', async () => {
    const fx = newTenant(app, 'audit-purge');
    await threeEntries(fx);

    await app.runtime.repos.sequelize.query("SELECT mmm_purge_audit_values(:t, now() + interval '1 minute')", { replacements: { t: fx.tenant } });
    const body = await audit(fx);

    expect(body.chain_ok).toBe(true);
    expect(body.entries.map((e: Record<string, unknown>) => [e.after, e.values_purged, typeof e.after_sha256])).toEqual(Array(3).fill([null, true, 'string']));
  });
});

describe('the chain shows tampering', () => {
  it("when one entry's after value is altered with SQL, then chain_ok is false and first_broken names that entry", async () => {
    const fx = newTenant(app, 'audit-alter');
    const [, middle] = await threeEntries(fx);

    await tamper(`UPDATE audit_log SET after = jsonb_set(after, '{max_nudges_per_window}', '99') WHERE audit_id = :id`, { id: middle.audit_id });
    const body = await audit(fx);

    expect(body.chain_ok).toBe(false);
    expect(body.first_broken).toEqual({ audit_id: middle.audit_id, seq: 2, reason: 'value_digest_mismatch' });
    expect(body.verified_entries).toBe(1);
  });

  it("when who made a change is rewritten, then that entry's hash no longer matches", async () => {
    const fx = newTenant(app, 'audit-who');
    const [, , first] = await threeEntries(fx);

    await tamper("UPDATE audit_log SET actor_sub = 'someone-else' WHERE audit_id = :id", { id: first.audit_id });
    const body = await audit(fx);

    expect(body.first_broken).toEqual({ audit_id: first.audit_id, seq: 1, reason: 'hash_mismatch' });
  });

  it('when an entry in the middle is deleted, then the next one is the first broken', async () => {
    const fx = newTenant(app, 'audit-gap');
    const [last, middle] = await threeEntries(fx);

    await tamper('DELETE FROM audit_log WHERE audit_id = :id', { id: middle.audit_id });
    const body = await audit(fx);

    expect(body.chain_ok).toBe(false);
    expect(body.first_broken).toEqual({ audit_id: last.audit_id, seq: 3, reason: 'seq_gap' });
  });

  it('when the newest entry is deleted, then the chain head no longer matches', async () => {
    const fx = newTenant(app, 'audit-tail');
    const [last] = await threeEntries(fx);

    await tamper('DELETE FROM audit_log WHERE audit_id = :id', { id: last.audit_id });
    const body = await audit(fx);

    expect(body.chain_ok).toBe(false);
    expect(body.first_broken).toEqual({ audit_id: null, seq: 3, reason: 'head_mismatch' });
  });

  it('when an unchained row is slipped in after the chain started, then it is the first broken', async () => {
    const fx = newTenant(app, 'audit-slip');
    await threeEntries(fx);

    await app.runtime.repos.sequelize.query(
      `INSERT INTO audit_log (tenant_id, actor_sub, action, resource_type, resource_id, before, after) VALUES (:t, 'intruder', 'policy.put', 'tenant_policy', :t, NULL, '{}')`,
      { replacements: { t: fx.tenant } },
    );
    const body = await audit(fx);

    expect(body.chain_ok).toBe(false);
    expect(body.first_broken).toEqual(expect.objectContaining({ seq: null, reason: 'unchained_entry' }));
  });
});

describe('reading the audit log', () => {
  it('when since, resource_type and limit are given, then only those entries come back, newest first, and chain_ok still covers the whole chain', async () => {
    const fx = newTenant(app, 'audit-filter');
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const mid = new Date().toISOString();
    await threeEntries(fx);

    const playbooks = await audit(fx, '?resource_type=playbook');
    const limited = await audit(fx, '?limit=2');
    const recent = await audit(fx, `?since=${encodeURIComponent(mid)}`);

    expect(playbooks.entries.map((e: { action: string }) => e.action)).toEqual(['playbook.publish', 'playbook.create']);
    expect(limited.entries.map((e: { seq: number }) => e.seq)).toEqual([5, 4]);
    expect(recent.entries.map((e: { action: string }) => e.action)).toEqual(['policy.put', 'policy.put', 'policy.put']);
    expect([playbooks.chain_ok, limited.chain_ok, playbooks.verified_entries, limited.verified_entries]).toEqual([true, true, 5, 5]);
  });

  it.each([
    ['?limit=0', 'query.limit'],
    ['?limit=abc', 'query.limit'],
    ['?resource_type=bogus', 'query.resource_type'],
    ['?since=yesterday', 'query.since'],
    ['?colour=red', 'query.colour'],
  ])('when the query is %s, then it is 400 naming %s', async (query, field) => {
    const fx = newTenant(app, 'audit-bad');

    const res = await app.request('GET', auditPath(fx, query), { token: fx.admin });

    expect(res.status).toBe(400);
    expectEnvelope(res.body);
    expect(fieldsOf(res.body)).toEqual([field]);
  });

  it("when a non-admin or another tenant's admin asks, then it is 403", async () => {
    const fx = newTenant(app, 'audit-who-reads');
    const other = newTenant(app, 'audit-other');

    const service = await app.request('GET', auditPath(fx), { token: fx.service });
    const actor = await app.request('GET', auditPath(fx), { token: fx.actor('alice') });
    const otherAdmin = await app.request('GET', auditPath(fx), { token: other.admin });

    expect([service.status, actor.status, otherAdmin.status]).toEqual([403, 403, 403]);
    expect(otherAdmin.body.error.code).toBe('forbidden_tenant');
  });
});
