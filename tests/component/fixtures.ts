/**
 * Small builders shared by the component tests: a tenant with its tokens, playbook and decide bodies, and a helper
 * that creates and publishes a playbook through the API. Everything goes over real HTTP; nothing here reaches into
 * the product's code.
 */
import { uniqueId, type TestApp } from '../support/harness';

export interface TenantFixture {
  tenant: string;
  admin: string;
  service: string;
  /** A token whose sub is the actor, with no service or admin role (plus any extra roles given). */
  actor(actorId: string, roles?: string[]): string;
}

export function newTenant(app: TestApp, prefix = 't'): TenantFixture {
  const tenant = uniqueId(prefix);
  return {
    tenant,
    admin: app.token({ tenant_id: tenant, sub: 'admin-1', roles: ['tenant_admin'] }),
    service: app.token({ tenant_id: tenant, sub: 'svc-ide', roles: ['service'] }),
    actor: (actorId, roles = []) => app.token({ tenant_id: tenant, sub: actorId, roles }),
  };
}

export interface PlaybookBody {
  name: string;
  category: string;
  triggers: Array<Record<string, unknown>>;
  conditions?: Array<Record<string, unknown>>;
  actions: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** A mirror playbook woken by `build_failures` signals with at least 3 failures, shown on ide, pr and ci. */
export function buildFailuresPlaybook(over: Partial<PlaybookBody> = {}): PlaybookBody {
  return {
    name: 'Build failures mirror',
    category: 'build_health',
    triggers: [{ source: 'ubi', kind: 'build_failures', min_severity: 'low' }],
    conditions: [{ field: 'signal.payload.failures', op: 'gte', value: 3 }],
    actions: [
      {
        type: 'mirror',
        title: 'Build activity on {{branch}}',
        body: 'Builds in {{repo_id}} failed {{signal.payload.failures}} times today.',
        surfaces: ['ide', 'pr', 'ci'],
        cooldown_minutes: 0,
      },
    ],
    ...over,
  };
}

/** A mirror playbook that answers every request without a signal (`kind: "request"`). */
export function requestPlaybook(action: Record<string, unknown> = {}, over: Partial<PlaybookBody> = {}): PlaybookBody {
  return {
    name: 'Request mirror',
    category: 'focus',
    triggers: [{ kind: 'request' }],
    actions: [{ type: 'mirror', title: 'Recent activity', body: 'Activity on {{surface}} today.', cooldown_minutes: 0, ...action }],
    ...over,
  };
}

export function buildFailuresSignal(failures: number, over: Record<string, unknown> = {}) {
  return {
    signal_id: uniqueId('sig'),
    source: 'ubi',
    kind: 'build_failures',
    severity: 'medium',
    occurred_at: new Date().toISOString(),
    payload: { failures },
    ...over,
  };
}

export function decideBody(tenant: string, over: Record<string, unknown> = {}) {
  return { tenant_id: tenant, actor_id: 'alice', actor_type: 'human', surface: 'ide', ...over };
}

/** Creates and publishes a playbook; fails the test with the response body when either step does not succeed. */
export async function publishPlaybook(app: TestApp, adminToken: string, body: PlaybookBody): Promise<{ playbook_id: string; version: number }> {
  const created = await app.request('POST', '/v1/mmm/playbooks', { token: adminToken, body });
  if (created.status !== 201) throw new Error(`creating the playbook gave ${created.status}: ${JSON.stringify(created.body)}`);
  const published = await app.request('POST', `/v1/mmm/playbooks/${created.body.playbook_id}/publish`, { token: adminToken });
  if (published.status !== 200) throw new Error(`publishing the playbook gave ${published.status}: ${JSON.stringify(published.body)}`);
  return { playbook_id: published.body.playbook_id, version: published.body.version };
}

export async function putPolicy(app: TestApp, fx: TenantFixture, policy: Record<string, unknown>) {
  const res = await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: policy });
  if (res.status !== 200) throw new Error(`PUT policy gave ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function decide(app: TestApp, token: string, body: Record<string, unknown>, headers?: Record<string, string>) {
  return app.request('POST', '/v1/mmm/decide', { token, body, headers });
}

/** The error envelope every 4xx/5xx carries. */
export function expectEnvelope(body: any, code?: string): void {
  expect(body).toEqual(expect.objectContaining({ error: expect.objectContaining({ code: expect.stringMatching(/^[a-z][a-z0-9_]*$/), message: expect.any(String) }) }));
  expect(body.error.message.length).toBeGreaterThan(0);
  if (code) expect(body.error.code).toBe(code);
}

/** The field names of a validation error's details. */
export function fieldsOf(body: any): string[] {
  return ((body?.error?.details?.fields ?? []) as Array<{ field: string }>).map((f) => f.field);
}

/**
 * Waits until the decision's Update has completed (its follow-up workflows are started before it does, ADR 0012):
 * the run and Update id are read from the decision's row, as ops would find them.
 */
export async function decisionRecorded(app: TestApp, decisionId: string): Promise<{ workflow_id: string; workflow_run_id: string; update_id: string; ref: unknown }> {
  const [rows] = await app.runtime.repos.sequelize.query('SELECT workflow_id, workflow_run_id, update_id FROM decisions WHERE decision_id = :id', { replacements: { id: decisionId } });
  const row = (rows as Array<{ workflow_id: string; workflow_run_id: string; update_id: string }>)[0];
  if (!row) throw new Error(`decision ${decisionId} is not stored`);
  const ref = await app.runtime.temporal.client.workflow.getHandle(row.workflow_id).getUpdateHandle(row.update_id, { workflowRunId: row.workflow_run_id }).result();
  return { ...row, ref };
}
