/**
 * The hostile corpus as a test (issue 12): every value of tests/support/hostile-corpus.ts is pushed through every way
 * data comes in (decide, signals on the bus, UBI events, playbook text, preferences, outcome comments), then looked for
 * in every answer, every route that reads the tenant's data back, every log line the app wrote (its pino output
 * captured at debug level), every receipt, and every text or JSON column of every table in PostgreSQL. A refusal
 * (4xx) counts as not stored, and is looked through too: an error must not echo the value either.
 */
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import { QueryTypes } from 'sequelize';
import { createRedisSignalBus } from '../../activities/bus/redis-signal-bus';
import type { SignalBus } from '../../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { textProblem } from '../../domain/model/common';
import { classifyString } from '../../domain/privacy/detectors';
import { createLogger } from '../../observability/logger';
import { behaviouralSignal, waitFor } from '../support/bus-contract';
import { requireEnv, uniqueId, useTestApp } from '../support/harness';
import { HOSTILE_CORPUS, findNeedles, type HostileValue } from '../support/hostile-corpus';
import { buildFailuresSignal, decide, decideBody, newTenant, publishPlaybook, type TenantFixture } from './fixtures';

const logLines: string[] = [];
const logger = createLogger('debug', {}, new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } }));
const PREFIX = `${uniqueId('corpus')}.`;
const app = useTestApp({ LOG_LEVEL: 'debug', BUS_TYPE: 'redis', BUS_TOPIC_PREFIX: PREFIX, BUS_MAX_DELIVERIES: '1', BUS_CLAIM_IDLE_MS: '500', BUS_BLOCK_MS: '200' }, {}, logger);

let publisher: SignalBus;
beforeAll(() => {
  publisher = createRedisSignalBus(
    { connect: () => new Redis(requireEnv('TEST_REDIS_URL'), { maxRetriesPerRequest: 1 }).on('error', () => undefined) },
    { topicPrefix: PREFIX, maxDeliveries: 1, concurrency: 4, maxLen: 10_000, claimIdleMs: 500, blockMs: 200 },
  );
});
afterAll(async () => {
  await publisher?.close();
});

/** Every answer of every push, with the way in and the value it carried. */
const answers: Array<{ way: string; value: HostileValue; status: number; body: unknown }> = [];
let fx: TenantFixture;
const decisionIds = new Set<string>();
const receiptIds = new Set<string>();
const playbookIds: string[] = [];

async function push(way: string, value: HostileValue, call: Promise<{ status: number; body: any }>) {
  const res = await call;
  answers.push({ way, value, status: res.status, body: res.body });
  if (res.status === 200 && typeof res.body?.decision_id === 'string') {
    decisionIds.add(res.body.decision_id);
    receiptIds.add(res.body.receipt_id);
  }
  return res;
}

/** Every table's text and JSON columns, straight from the catalogue: a table added later is covered too. */
async function tablesWithText(): Promise<Map<string, string[]>> {
  const cols = await app.runtime.repos.sequelize.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'bytea')`,
    { type: QueryTypes.SELECT },
  );
  const byTable = new Map<string, string[]>();
  for (const c of cols) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  return byTable;
}

beforeAll(async () => {
  fx = newTenant(app, 'corpus');
  const every = 'Builds in {{repo_id}} at {{file_path}} failed {{signal.payload.failures}} times, step {{signal.payload.note}}.';
  playbookIds.push(
    (await publishPlaybook(app, fx.admin, {
      name: 'Corpus mirror', category: 'build_health',
      triggers: [{ source: 'ubi', kind: 'build_failures' }], conditions: [{ field: 'signal.payload.failures', op: 'gte', value: 3 }],
      actions: [{ type: 'mirror', title: 'Build activity on {{branch}}', body: every, surfaces: ['ide', 'pr', 'ci', 'alert'], cooldown_minutes: 0 }],
    })).playbook_id,
    (await publishPlaybook(app, fx.admin, {
      name: 'Corpus bus mirror', category: 'review_health',
      triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', surfaces: ['ide'] }],
      actions: [{ type: 'mirror', title: 'Review turnaround', body: 'Reviews took {{signal.payload.value}} h, note {{signal.payload.note}}.', surfaces: ['ide'], cooldown_minutes: 0 }],
    })).playbook_id,
  );
  const clean = await decide(app, fx.service, decideBody(fx.tenant, { signal: buildFailuresSignal(4) }));
  expect(clean.status).toBe(200);
  decisionIds.add(clean.body.decision_id);

  const busSignals: string[] = [];
  for (const h of HOSTILE_CORPUS) {
    const v = h.value;
    // decide: the optional fields, the payload alone, the actor id
    await push('decide: branch, repo_id, file_path, payload', h, decide(app, fx.service, decideBody(fx.tenant, { surface: 'pr', branch: v, repo_id: v, file_path: v, signal: buildFailuresSignal(4, { payload: { failures: 4, note: v } }) })));
    await push('decide: payload', h, decide(app, fx.service, decideBody(fx.tenant, { surface: 'ci', signal: buildFailuresSignal(4, { payload: { failures: 4, note: v } }) })));
    await push('decide: actor_id', h, decide(app, fx.service, decideBody(fx.tenant, { actor_id: v, signal: buildFailuresSignal(4) })));
    await push('decide: signal_id', h, decide(app, fx.service, decideBody(fx.tenant, { signal: buildFailuresSignal(4, { signal_id: v }) })));
    // UBI events: a property, a property key, the optional and required identifiers
    const at = new Date(Date.now() - 60_000).toISOString();
    const event = (over: Record<string, unknown>) => ({ event_id: uniqueId('ev'), tenant_id: fx.tenant, actor_id: 'alice', actor_type: 'human', event_type: 'pr_opened', occurred_at: at, source: 'github', properties: { pr_id: 'pr-1' }, ...over });
    await push('UBI events', h, app.request('POST', '/v1/ubi/events', {
      token: fx.service,
      body: { events: [
        event({ properties: { pr_id: v, size_bucket: 's' } }), event({ properties: { pr_id: 'pr-2', note: v } }), event({ properties: { pr_id: 'pr-3', [v.slice(0, 60)]: 1 } }),
        event({ team_id: v }), event({ repo_id: v }), event({ source: v }), event({ actor_id: v }), event({ event_id: v }),
      ] },
    }));
    // playbook text: what an admin writes (free text is its point, so only the rest is pushed into it), a condition value
    const playbook = (over: Record<string, unknown>, action: Record<string, unknown> = {}) => ({
      name: 'Corpus', category: 'build_health', triggers: [{ kind: 'request' }],
      actions: [{ type: 'mentor', title: 'Title', body: 'Body of the text.', ...action }], ...over,
    });
    // Sentences are what a playbook's text is made of, so free text is not pushed into it; text with line breaks goes
    // only into the one-line fields (a body or a description may span lines).
    const multiline = classifyString(v) === 'free_text';
    const authored = [['title', playbook({}, { title: v })], ['name', playbook({ name: v.slice(0, 120) })], ['body', playbook({}, { body: v })], ['description', playbook({ description: v })]] as const;
    for (const [label, body] of authored)
      if (h.category !== 'free_text' && !(multiline && (label === 'body' || label === 'description')))
        await push(`playbook ${label}`, h, app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body }));
    await push('playbook condition value', h, app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: playbook({ conditions: [{ field: 'branch', op: 'eq', value: v }] }) }));
    // preferences
    await push('preferences opt_out_categories', h, app.request('PUT', '/v1/mmm/actors/alice/preferences', { token: fx.service, body: { opt_out_categories: [v.slice(0, 64)] } }));
    await push('preferences timezone', h, app.request('PUT', '/v1/mmm/actors/alice/preferences', { token: fx.service, body: { timezone: v.slice(0, 64) } }));
    // outcome comments, and an action id that is the value
    const action = clean.body.actions[0].action_id;
    await push('outcome comment', h, app.request('POST', `/v1/mmm/decisions/${clean.body.decision_id}/outcomes`, { token: fx.service, body: { action_id: action, outcome: 'accepted', comment: v } }));
    await push('outcome action_id', h, app.request('POST', `/v1/mmm/decisions/${clean.body.decision_id}/outcomes`, { token: fx.service, body: { action_id: v.slice(0, 128), outcome: 'dismissed' } }));
    // signals on the bus: in the explanation (it becomes the payload), and as the actor
    const inExplanation = behaviouralSignal({ tenant_id: fx.tenant, actor_id: 'alice', explanation: { direction: 'above', note: v } });
    const asActor = behaviouralSignal({ tenant_id: fx.tenant, actor_id: v });
    await publisher.publish([inExplanation, asActor]);
    busSignals.push(inExplanation.signal_id, asActor.signal_id);
  }
  // Every bus signal either made its decision or went to the dead letter (a poison message is not retried).
  await waitFor('every bus signal handled', async () => {
    const decided = await app.runtime.repos.sequelize.query<{ k: string }>("SELECT idempotency_key AS k FROM decisions WHERE tenant_id = :t AND idempotency_key LIKE 'ubi-signal:%'", { replacements: { t: fx.tenant }, type: QueryTypes.SELECT });
    const dead = await publisher.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC, 10_000);
    const done = new Set([...decided.map((d) => d.k.split(':')[1]), ...dead.map((d) => (d.payload as { signal_id?: string })?.signal_id)]);
    return busSignals.every((id) => done.has(id)) || undefined;
  }, 60_000);
  const busDecisions = await app.runtime.repos.sequelize.query<{ decision_id: string; receipt_id: string }>('SELECT decision_id, receipt_id FROM decisions WHERE tenant_id = :t', { replacements: { t: fx.tenant }, type: QueryTypes.SELECT });
  for (const d of busDecisions) {
    decisionIds.add(d.decision_id);
    receiptIds.add(d.receipt_id);
  }
}, 240_000);

/** Value label → where it was found: per test, and over the whole file for the count printed at the end. */
const everFound = new Map<string, Set<string>>();
let found = new Map<string, Set<string>>();
beforeEach(() => {
  found = new Map();
});
function look(where: string, text: string) {
  for (const h of findNeedles(text))
    for (const m of [found, everFound]) m.set(h.label, new Set([...(m.get(h.label) ?? []), where]));
}

it('when the corpus went through every way in, then nothing failed with a 5xx and the hostile decide fields were dropped and named, never echoed', () => {
  expect(answers.filter((a) => a.status >= 500).map((a) => [a.way, a.value.label, a.status])).toEqual([]);
  const decided = answers.filter((a) => a.way === 'decide: payload' && a.status === 200);
  for (const a of decided) expect((a.body as { dropped_fields: string[] }).dropped_fields).toContain('signal.payload.note');
  for (const a of answers) look(`answer to ${a.way}`, JSON.stringify(a.body));
  expect(found).toEqual(new Map());
});

it('when signals carrying the corpus came over the bus, then each decision made names the dropped payload field', async () => {
  const rows = await app.runtime.repos.sequelize.query<{ dropped: string[] | null }>(
    "SELECT body->'dropped_fields' AS dropped FROM decisions WHERE tenant_id = :t AND idempotency_key LIKE 'ubi-signal:%'",
    { replacements: { t: fx.tenant }, type: QueryTypes.SELECT },
  );
  // A value the shared text rule refuses (NUL, a lone surrogate) makes the signal invalid: dead-lettered, not decided.
  expect(rows).toHaveLength(HOSTILE_CORPUS.filter((v) => textProblem(v.value) === null).length);
  for (const r of rows) expect(r.dropped).toContain('signal.payload.note');
  expect(found).toEqual(new Map());
});

it('when every route that reads the tenant back is asked, then no value of the corpus is in any answer', async () => {
  const gets = [
    ...[...decisionIds].map((id) => `/v1/mmm/decisions/${id}`),
    ...[...receiptIds].map((id) => `/v1/mmm/receipts/${id}`),
    '/v1/mmm/playbooks', ...playbookIds.map((id) => `/v1/mmm/playbooks/${id}`), `/v1/mmm/tenants/${fx.tenant}/policy`,
    '/v1/mmm/actors/alice/preferences', '/v1/ubi/actors/alice/profile', '/v1/ubi/signals', `/v1/ubi/signals/recent?tenant_id=${fx.tenant}&actor_id=alice`,
    `/v1/ubi/tenants/${fx.tenant}/config`, '/v1/mmm/receipts/keys', '/metrics', '/v1/ubi/metrics',
  ];
  for (const path of gets) {
    const res = await app.request('GET', path, { token: path.startsWith('/v1/ubi/') || path.includes('playbooks') || path.includes('policy') ? fx.admin : fx.service });
    expect([path, res.status < 500]).toEqual([path, true]);
    look(`GET ${path}`, typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  }
  expect(gets.length).toBeGreaterThan(HOSTILE_CORPUS.length);
  expect(found).toEqual(new Map());
});

it('when the receipts of the tenant are read from the ledger, then none holds a value of the corpus', async () => {
  const chain = await app.runtime.repos.ledger.chain(fx.tenant, 10_000);
  expect(chain.length).toBeGreaterThanOrEqual(decisionIds.size);
  look('receipts', JSON.stringify(chain));
  expect(found).toEqual(new Map());
});

it("when the app's log lines are read, then none holds a value of the corpus", () => {
  // The capture works: the consumer's and the API's debug lines about this tenant are there.
  expect(logLines.some((l) => l.includes(fx.tenant) && l.includes('signal decided'))).toBe(true);
  look('log lines', logLines.join('\n'));
  expect(found).toEqual(new Map());
});

it('when every text and JSON column of every table in PostgreSQL is searched, then no value of the corpus is in any row', async () => {
  const needles = HOSTILE_CORPUS.flatMap((h) => h.needles);
  const tables = await tablesWithText();
  expect(tables.has('decisions') && tables.has('receipts') && tables.has('ubi_events') && tables.has('audit_log')).toBe(true);
  for (const [table, columns] of tables) {
    const text = `concat_ws(chr(31), ${columns.map((c) => `"${c}"::text`).join(', ')})`;
    const rows = await app.runtime.repos.sequelize.query<{ n: string }>(
      `SELECT n FROM unnest(ARRAY[:needles]::text[]) AS n WHERE EXISTS (SELECT 1 FROM "${table}" WHERE strpos(${text}, n) > 0)`,
      { replacements: { needles }, type: QueryTypes.SELECT },
    );
    for (const r of rows) look(`table ${table}`, r.n);
  }
  // The search works: the tenant's own id is found where it must be.
  const probe = await app.runtime.repos.sequelize.query<{ n: string }>('SELECT n FROM unnest(ARRAY[:needles]::text[]) AS n WHERE EXISTS (SELECT 1 FROM decisions WHERE strpos(body::text, n) > 0)', { replacements: { needles: [fx.tenant] }, type: QueryTypes.SELECT });
  expect(probe).toEqual([{ n: fx.tenant }]);
  const tried = answers.length + HOSTILE_CORPUS.length * 2;
  console.log(JSON.stringify({
    hostile_corpus: { values: HOSTILE_CORPUS.length, attempts: tried, refused_4xx: answers.filter((a) => a.status >= 400 && a.status < 500).length, accepted_2xx: answers.filter((a) => a.status < 300).length, bus_signals: HOSTILE_CORPUS.length * 2, tables_searched: tables.size, found: everFound.size, where: Object.fromEntries([...everFound].map(([k, v]) => [k, [...v]])) },
  }));
  expect(found).toEqual(new Map());
});
