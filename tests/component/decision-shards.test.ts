/**
 * Decisions as Updates into (tenant, shard) workflows (ADR 0012), through the HTTP API: what ops find from a decision
 * id, and idempotency across a continue-as-new, forced here with a per-run limit of 2 decisions.
 */
import { temporal } from '@temporalio/proto';
import { TENANT_ID_ATTR } from '../../temporal/search-attributes';
import { decisionShardOf, decisionShardWorkflowId } from '../../temporal/workflow-ids';
import { receiptHash } from '../../lib/receipt-crypto';
import { uniqueId, useTestApp } from '../support/harness';
import { decide, decideBody, decisionRecorded, expectEnvelope, newTenant, publishPlaybook, requestPlaybook } from './fixtures';

const { EventType } = temporal.api.enums.v1;

jest.setTimeout(90_000);

const SHARDS = 2;
const app = useTestApp({ DECISION_SHARDS: String(SHARDS), DECISION_MAX_PER_RUN: '2' });

async function rowsOf(tenant: string): Promise<Array<{ decision_id: string; workflow_id: string; workflow_run_id: string; update_id: string }>> {
  const [rows] = await app.runtime.repos.sequelize.query('SELECT decision_id, workflow_id, workflow_run_id, update_id FROM decisions WHERE tenant_id = :t ORDER BY created_at', {
    replacements: { t: tenant },
  });
  return rows as Array<{ decision_id: string; workflow_id: string; workflow_run_id: string; update_id: string }>;
}

async function receiptCount(tenant: string): Promise<number> {
  return (await app.runtime.repos.ledger.chain(tenant)).length;
}

it("when a decision is made, then its row names the shard workflow, the run and the Update, whose events are in that run's history, and ops list the tenant's shards by MmmTenantId", async () => {
  const fx = newTenant(app);
  await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));

  const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

  expect(res.status).toBe(200);
  const [row] = await rowsOf(fx.tenant);
  expect(row).toEqual({
    decision_id: res.body.decision_id,
    workflow_id: decisionShardWorkflowId(fx.tenant, decisionShardOf('alice', SHARDS)),
    workflow_run_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    update_id: res.body.decision_id,
  });
  expect(res.body.workflow_id).toBe(row.workflow_id);
  // `temporal workflow update describe -w <workflow_id> -r <workflow_run_id> --update-id <update_id>` does this.
  expect((await decisionRecorded(app, row.decision_id)).ref).toEqual({ decision_id: res.body.decision_id, receipt_id: res.body.receipt_id, outcome: 'shown' });
  const history = await app.runtime.temporal.client.workflow.getHandle(row.workflow_id, row.workflow_run_id).fetchHistory();
  const events = (history.events ?? []).filter(
    (e) =>
      e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId === row.update_id ||
      e.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId === row.update_id,
  );
  expect(events.map((e) => e.eventType)).toEqual([EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED]);

  const listed: string[] = [];
  // Visibility is eventually consistent on the dev server: wait until the shard is listed.
  for (let i = 0; i < 50 && listed.length === 0; i++) {
    for await (const wf of app.runtime.temporal.client.workflow.list({ query: `MmmTenantId = '${fx.tenant}'` })) listed.push(wf.workflowId);
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(listed).toContain(row.workflow_id);
  const description = await app.runtime.temporal.client.workflow.getHandle(row.workflow_id).describe();
  expect(description.typedSearchAttributes.get(TENANT_ID_ATTR)).toBe(fx.tenant);
});

describe('idempotency across a continue-as-new (2 decisions per run)', () => {
  it('when a key is retried after its run continued as new, then the same decision comes back, and another body under it is 409', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));
    const key = uniqueId('idem');
    const body = decideBody(fx.tenant, { actor_id: 'alice' });

    const first = await decide(app, fx.service, body, { 'Idempotency-Key': key });
    // Two more decisions in alice's shard: the first run is full and continues as new.
    for (let i = 0; i < 2; i++) expect((await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }))).status).toBe(200);
    const rows = await rowsOf(fx.tenant);
    expect(new Set(rows.map((r) => r.workflow_run_id)).size).toBe(2);

    const again = await decide(app, fx.service, body, { 'Idempotency-Key': key });
    const other = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice', surface: 'ci' }), { 'Idempotency-Key': key });

    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(other.status).toBe(409);
    expectEnvelope(other.body, 'idempotency_key_reused');
    expect(await receiptCount(fx.tenant)).toBe(3);
  });

  it('when 5 retries of one key race with other decisions that make their shard continue as new, then they all get one decision and one receipt', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));
    const key = uniqueId('idem');
    const body = decideBody(fx.tenant, { actor_id: 'alice' });

    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => decide(app, fx.service, body, { 'Idempotency-Key': key })),
      ...Array.from({ length: 5 }, () => decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }))),
    ]);

    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const keyed = results.slice(0, 5).map((r) => r.body.decision_id);
    expect(new Set(keyed).size).toBe(1);
    const rows = await rowsOf(fx.tenant);
    expect(rows).toHaveLength(6);
    expect(rows.filter((r) => r.decision_id === keyed[0])).toHaveLength(1);
    expect(await receiptCount(fx.tenant)).toBe(6);
    // Six decisions at two per run: the shard has continued as new at least twice.
    expect(new Set(rows.map((r) => r.workflow_run_id)).size).toBeGreaterThanOrEqual(3);
  });
});

it('when 12 decisions of one shard arrive at once, then they are stored in batches whose receipts still form one unbroken chain', async () => {
  const fx = newTenant(app);
  await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));

  const results = await Promise.all(Array.from({ length: 12 }, () => decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }))));

  expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
  const chain = await app.runtime.repos.ledger.chain(fx.tenant);
  expect(chain.map((r) => r.decision_id).sort()).toEqual(results.map((r) => r.body.decision_id).sort());
  expect(chain[0].prev_receipt_hash).toBeNull();
  for (let i = 1; i < chain.length; i++) expect(chain[i].prev_receipt_hash).toBe(receiptHash(chain[i - 1]));
});
