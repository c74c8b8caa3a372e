/**
 * Every series an alert rule, a recording rule or a dashboard panel names is exported by some tier. The tiers run as
 * deployed (an API-only and a worker-only runtime on one task queue, a service configured so the breaker gauge has a
 * series) and one decision goes through them, so the SDK's task metrics exist; then each tier's live /metrics is
 * scraped and the names in deploy/prometheus and deploy/grafana are checked against what they hold. The dashboard
 * must also have the panels ops rely on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startFakeService, type FakeService } from '../support/fake-service';
import { startTestApp, uniqueId, type TestApp } from '../support/harness';
import { exportedNames, metricNamesIn, metricNamesInVariableQuery, ruleExpressions, unexported } from '../support/promql-names';
import { decide, decideBody, newTenant, publishPlaybook, requestPlaybook } from './fixtures';

jest.setTimeout(90_000);

const DEPLOY = path.join(__dirname, '..', '..', 'deploy');
const rules = ruleExpressions(fs.readFileSync(path.join(DEPLOY, 'prometheus', 'alert-rules.yaml'), 'utf8'));
const dashboard = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana', 'mmm-dashboard.json'), 'utf8'));

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = allPanels(dashboard.panels);

const taskQueue = uniqueId('tq-coverage');
let policy: FakeService;
let api: TestApp;
let worker: TestApp;
let exported: Map<string, string>;

beforeAll(async () => {
  policy = await startFakeService(() => ({ body: {} }));
  worker = await startTestApp({ TEMPORAL_TASK_QUEUE: taskQueue, RUN_API: 'false', POLICY_BASE_URL: policy.url });
  api = await startTestApp({ TEMPORAL_TASK_QUEUE: taskQueue, RUN_WORKER: 'false', TEMPORAL_EAGER_START: 'false' });
  // One decision through both tiers: the worker's SDK then reports its workflow task metrics.
  const fx = newTenant(api, 'cov');
  await publishPlaybook(api, fx.admin, requestPlaybook());
  const res = await decide(api, fx.service, decideBody(fx.tenant, { actor_id: 'a1' }));
  expect(res.status).toBe(200);
  // Readiness probes set mmm_dependency_up on both tiers, as Kubernetes' probes do.
  await api.request('GET', '/v1/mmm/ready');
  await fetch(`${worker.runtime.metricsUrl}/readyz`);

  const [apiText, workerText] = await Promise.all([
    api.request('GET', '/metrics').then((r) => r.body as string),
    fetch(`${worker.runtime.metricsUrl}/metrics`).then((r) => r.text()),
  ]);
  exported = new Map([...exportedNames(apiText), ...exportedNames(workerText)]);
});
afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await policy?.close();
});

it('when a name is not exported by any tier, then the check reports it (and maps histogram suffixes to their family)', () => {
  const names = metricNamesIn('sum(rate(no_such_series_total[5m])) / sum(rate(mmm_decision_latency_seconds_count{surface="ide"}[5m]))');

  expect(names).toEqual(['no_such_series_total', 'mmm_decision_latency_seconds_count']);
  expect(unexported(names, exported)).toEqual(['no_such_series_total']);
});

it('when the alert and recording rules are read, then every series they name is exported by the API or the worker tier', () => {
  expect(rules.exprs.length).toBeGreaterThan(10);
  const missing = rules.exprs.flatMap(({ rule, expr }) => unexported(metricNamesIn(expr), exported).filter((n) => !rules.recorded.includes(n)).map((n) => `${rule}: ${n}`));

  expect(missing).toEqual([]);
});

it('when the dashboard is read, then every series its panels and variables name is exported by the API or the worker tier', () => {
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
  expect(exprs.length).toBeGreaterThan(20);
  const missing = [
    ...exprs.flatMap(({ panel, expr }) => unexported(metricNamesIn(expr), exported).filter((n) => !rules.recorded.includes(n)).map((n) => `${panel}: ${n}`)),
    ...dashboard.templating.list.flatMap((v: { name: string; query?: { query?: string } }) =>
      unexported(metricNamesInVariableQuery(v.query?.query ?? ''), exported).map((n) => `variable ${v.name}: ${n}`),
    ),
  ];

  expect(missing).toEqual([]);
});

it.each([
  ['UBI ingest rate', /ubi_events_processed_total/],
  ['feature freshness', /ubi_feature_freshness_seconds_bucket/],
  ['UBI backlog', /ubi_queue_size/],
  ['Signals by severity', /ubi_anomalies_total/],
  ['published', /mmm_bus_messages_published_total/],
  ['consumed', /mmm_bus_messages_consumed_total/],
  ['consumer lag', /mmm_bus_consumer_lag_messages/],
  ['Dead letters', /mmm_bus_messages_dead_lettered_total/],
  ['ERIS emission backlog', /mmm_receipt_emission_backlog/],
  ['Circuit breaker states', /mmm_circuit_breaker_state/],
  ['Decide latency', /mmm_decision_latency_seconds_bucket.*surface|surface.*mmm_decision_latency_seconds_bucket/],
])('when ops look for %s, then a dashboard panel shows it', (title, series) => {
  const panel = panels.find((p) => p.title.toLowerCase().includes(title.toLowerCase()) && p.type !== 'row');

  expect(panel).toBeDefined();
  expect((panel?.targets ?? []).some((t) => series.test(t.expr ?? ''))).toBe(true);
});
