/**
 * Data governance, retention and the append-only ledgers (issue 12, ADR 0013), against a real data governance server
 * (tests/support/fake-service.ts), real PostgreSQL and a real Temporal worker: allowed_fields and pii_fields shape
 * what a decision keeps before it is stored or signed; the daily retention run purges decisions, outcomes, approvals
 * and the outbox past retention_days and keeps their receipts verifiable; plain SQL cannot alter a receipt, and one
 * altered behind the trigger's back fails verification.
 */
import { QueryTypes } from 'sequelize';
import { verifyReceipt } from '../../lib/receipt-crypto';
import { ensureUbiSchedules } from '../../temporal/ubi-schedules';
import { startFakeService, type FakeService } from '../support/fake-service';
import { useTestApp, uniqueId } from '../support/harness';
import { buildFailuresPlaybook, buildFailuresSignal, decide, decideBody, newTenant, publishPlaybook, putPolicy, type TenantFixture } from './fixtures';

/** Per tenant, what data governance answers; a tenant not in the map gets no retention and no field rules. */
const governance = new Map<string, Record<string, unknown>>();
let dg: FakeService;
beforeAll(async () => {
  dg = await startFakeService((call) => {
    if (call.method !== 'GET') return { body: { payload: call.body.payload } };
    const tenant = decodeURIComponent(call.path.split('/')[4] ?? '');
    return { body: governance.get(tenant) ?? { retention_days: null, pii_fields: [] } };
  });
});
afterAll(async () => {
  await dg?.close();
});
const app = useTestApp(() => ({ DATA_GOVERNANCE_BASE_URL: dg.url, CONTEXT_CACHE_TTL_MS: '0' }));

const sql = <T extends object>(query: string, replacements: Record<string, unknown> = {}) =>
  app.runtime.repos.sequelize.query<T>(query, { replacements, type: QueryTypes.SELECT });

async function publicKey(): Promise<string> {
  return (await app.request('GET', '/v1/mmm/receipts/keys')).body.keys[0].public_key;
}

async function shownDecision(fx: TenantFixture, over: Record<string, unknown> = {}) {
  const res = await decide(app, fx.service, decideBody(fx.tenant, { surface: 'pr', signal: buildFailuresSignal(4), ...over }));
  expect(res.status).toBe(200);
  return res.body;
}

describe('data governance', () => {
  it("when the tenant's config allows some fields and names pii fields, then only allowed fields are kept, pii ones masked, before the decision is stored or signed", async () => {
    const fx = newTenant(app, 'dg');
    governance.set(fx.tenant, { retention_days: 30, allowed_fields: ['branch', 'signal.payload.failures'], pii_fields: ['branch'] });
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());

    const body = await shownDecision(fx, {
      branch: 'feature/payments-retry',
      repo_id: 'payments-core',
      file_path: 'src/charge-handler.ts',
      signal: buildFailuresSignal(4, { payload: { failures: 4, failing_step: 'unit-tests-shard-7' } }),
    });

    expect(body.dropped_fields).toEqual(['repo_id', 'file_path', 'signal.payload.failing_step']);
    expect(body.degraded_reasons).toContain('privacy_fields_dropped');
    expect(body.context).toMatchObject({ branch: '[redacted-pii]', repo_id: null, file_path: null });
    expect(body.context.signal.payload).toEqual({ failures: 4 });
    expect(body.actions[0].payload.title).toBe('Build activity on [redacted-pii]');
    const [row] = await sql<{ body: string }>('SELECT body::text AS body FROM decisions WHERE decision_id = :id', { id: body.decision_id });
    const [receipt] = await sql<{ body: string }>('SELECT body::text AS body FROM receipts WHERE receipt_id = :id', { id: body.receipt_id });
    for (const stored of [row.body, receipt.body]) for (const v of ['feature/payments-retry', 'payments-core', 'charge-handler', 'unit-tests-shard-7']) expect(stored).not.toContain(v);
  });
});

describe('retention', () => {
  async function backdate(decisionId: string, days: number) {
    await app.runtime.repos.sequelize.query('UPDATE decisions SET created_at = created_at - make_interval(days => :days) WHERE decision_id = :id', { replacements: { id: decisionId, days } });
  }

  it('when the daily run finds decisions past the retention data governance gives, then their bodies, outcomes, approvals and outbox rows go and their receipts stay verifiable', async () => {
    const fx = newTenant(app, 'ret');
    governance.set(fx.tenant, { retention_days: 30, pii_fields: [] });
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    const old = await shownDecision(fx);
    const recent = await shownDecision(fx);
    const outcome = await app.request('POST', `/v1/mmm/decisions/${old.decision_id}/outcomes`, { token: fx.service, body: { action_id: old.actions[0].action_id, outcome: 'accepted' } });
    expect(outcome.status).toBe(201);
    await backdate(old.decision_id, 31);
    const actionId = uniqueId('act');
    await app.runtime.repos.sequelize.query(
      `INSERT INTO action_approvals (action_id, tenant_id, decision_id, actor_id, workflow_id, status, action_digest, expires_at, created_at)
       VALUES (:a, :t, :d, 'alice', 'wf', 'expired', 'digest', now() - interval '40 days', now() - interval '41 days')`,
      { replacements: { a: actionId, t: fx.tenant, d: old.decision_id } },
    );
    await app.runtime.repos.outbox.record({ tenant_id: fx.tenant, action_id: actionId, target: 'ci', idempotency_key: uniqueId('idem'), payload: { a: 1 } });
    await app.runtime.repos.sequelize.query("UPDATE action_outbox SET created_at = now() - interval '41 days' WHERE action_id = :a", { replacements: { a: actionId } });

    const result = await app.runtime.temporal.client.workflow.execute('mmmRetentionWorkflow', { taskQueue: app.taskQueue, workflowId: `mmm-retention/${fx.tenant}/test`, args: [{ tenant_id: fx.tenant }] });

    expect(result).toMatchObject({ retention_days: 30, source: 'data_governance', decisions: 1, outcomes: 1, approvals: 1, outbox: 1 });
    expect((await app.request('GET', `/v1/mmm/decisions/${old.decision_id}`, { token: fx.service })).status).toBe(404);
    expect((await app.request('GET', `/v1/mmm/decisions/${recent.decision_id}`, { token: fx.service })).status).toBe(200);
    const receipt = await app.request('GET', `/v1/mmm/receipts/${old.receipt_id}`, { token: fx.service });
    expect(receipt.status).toBe(200);
    expect(verifyReceipt(receipt.body, await publicKey())).toBe(true);
    expect(await sql('SELECT 1 FROM action_outbox WHERE action_id = :a UNION ALL SELECT 1 FROM action_approvals WHERE action_id = :a', { a: actionId })).toEqual([]);
  });

  it("when data governance has no retention for the tenant, then the tenant policy gives it, and the tenant's schedules include the daily MMM retention", async () => {
    const fx = newTenant(app, 'retp');
    await putPolicy(app, fx, { retention_days: 10 });
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    const old = await shownDecision(fx);
    await backdate(old.decision_id, 11);

    const result = await app.runtime.temporal.client.workflow.execute('mmmRetentionWorkflow', { taskQueue: app.taskQueue, workflowId: `mmm-retention/${fx.tenant}/test`, args: [{ tenant_id: fx.tenant }] });
    expect(result).toMatchObject({ retention_days: 10, source: 'tenant_policy', decisions: 1 });

    // The harness turns the app's scheduler off (it would ensure every tenant of the shared database); this is what it runs.
    await ensureUbiSchedules(app.runtime.temporal.client, { tenantId: fx.tenant, baselineCron: '0 2 * * *', taskQueue: app.taskQueue });
    const schedule = await app.runtime.temporal.client.schedule.getHandle(`mmm-retention/${fx.tenant}`).describe();
    try {
      expect(schedule.action).toMatchObject({ workflowType: 'mmmRetentionWorkflow', taskQueue: app.taskQueue, args: [{ tenant_id: fx.tenant }] });
      expect(schedule.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 45, end: 45, step: 1 }] });
    } finally {
      for (const id of [`ubi-baselines/${fx.tenant}`, `ubi-retention/${fx.tenant}`, `mmm-retention/${fx.tenant}`])
        await app.runtime.temporal.client.schedule.getHandle(id).delete().catch(() => undefined);
    }
  });
});

describe('append-only ledgers', () => {
  it('when plain SQL updates, deletes or truncates receipts or the audit log, then the database refuses it', async () => {
    const fx = newTenant(app, 'ledger');
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    const { receipt_id: receiptId } = await shownDecision(fx);
    const seq = app.runtime.repos.sequelize;
    const attempts = [
      [`UPDATE receipts SET body = jsonb_set(body, '{payload,outcome}', '"no_match"') WHERE receipt_id = '${receiptId}'`, 'receipts is append-only: UPDATE'],
      [`DELETE FROM receipts WHERE receipt_id = '${receiptId}'`, 'receipts is append-only: DELETE'],
      ['TRUNCATE receipts CASCADE', 'receipts is append-only: TRUNCATE'],
      [`UPDATE audit_log SET actor_sub = 'someone-else' WHERE tenant_id = '${fx.tenant}'`, 'audit_log is append-only: UPDATE'],
      [`DELETE FROM audit_log WHERE tenant_id = '${fx.tenant}'`, 'audit_log is append-only: DELETE'],
      // The purge's flag set by hand admits only clearing values, never rewriting who did what.
      [`BEGIN; SET LOCAL mmm.retention_purge = 'on'; UPDATE audit_log SET actor_sub = 'x', before = NULL, after = NULL WHERE tenant_id = '${fx.tenant}'; COMMIT`, 'audit_log is append-only: UPDATE'],
    ];
    for (const [statement, message] of attempts) {
      await expect(seq.query(statement)).rejects.toThrow(message);
      await seq.query('ROLLBACK').catch(() => undefined);
    }
    expect(await sql('SELECT 1 FROM receipts WHERE receipt_id = :id', { id: receiptId })).toHaveLength(1);
  });

  it('when a receipt is altered with the trigger disabled, then it fails verification', async () => {
    const fx = newTenant(app, 'tamper');
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    const { receipt_id: receiptId } = await shownDecision(fx);
    const key = await publicKey();
    const before = await app.request('GET', `/v1/mmm/receipts/${receiptId}`, { token: fx.service });
    expect(verifyReceipt(before.body, key)).toBe(true);

    await app.runtime.repos.sequelize.transaction(async (transaction) => {
      const q = (s: string) => app.runtime.repos.sequelize.query(s, { transaction, replacements: { id: receiptId } });
      await q('ALTER TABLE receipts DISABLE TRIGGER receipts_append_only');
      await q(`UPDATE receipts SET body = jsonb_set(body, '{payload,outcome}', '"no_match"') WHERE receipt_id = :id`);
      await q('ALTER TABLE receipts ENABLE TRIGGER receipts_append_only');
    });

    const after = await app.request('GET', `/v1/mmm/receipts/${receiptId}`, { token: fx.service });
    expect(after.body.payload.outcome).toBe('no_match');
    expect(verifyReceipt(after.body, key)).toBe(false);
  });

  it('when the retention purge clears audit values past the cutoff, then it goes through its guarded function and the entries stay', async () => {
    const fx = newTenant(app, 'audit');
    await putPolicy(app, fx, { retention_days: 30 });
    const seq = app.runtime.repos.sequelize;
    const [{ n }] = await sql<{ n: string }>("SELECT mmm_purge_audit_values(:t, now() + interval '1 minute') AS n", { t: fx.tenant });
    expect(Number(n)).toBe(1);
    expect(await sql('SELECT actor_sub, before, after FROM audit_log WHERE tenant_id = :t', { t: fx.tenant })).toEqual([{ actor_sub: 'admin-1', before: null, after: null }]);
    await expect(seq.query(`UPDATE audit_log SET before = NULL WHERE tenant_id = '${fx.tenant}'`)).rejects.toThrow('audit_log is append-only');
  });
});
