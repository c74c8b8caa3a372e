import { planActions } from '../../domain/action-planning';
import { planMentorActions } from '../../domain/mentor/mentor-planning';
import {
  baselineComparison,
  buildMentorPrompt,
  collectEvidence,
  interpretGatewayAnswer,
  templateRationale,
  type MentorContext,
} from '../../domain/mentor/mentor-rules';
import { DEFAULT_PREFERENCES } from '../../domain/model/preferences';
import { DEFAULT_TENANT_POLICY } from '../../domain/model/policy';
import { playbookInputSchema } from '../../domain/model/playbook';

const ctx: MentorContext = {
  actor_id: 'alice',
  actor_type: 'human',
  surface: 'ide',
  file_path: 'src/secret-project/alice.ts',
  signal: {
    signal_id: 'sig-1',
    source: 'ubi',
    kind: 'build_failures',
    severity: 'high',
    occurred_at: '2026-01-01T00:00:00Z',
    payload: { failures: 4, note: 'mail bob@example.com', run_id: 'run-7', snippet: 'function f() { return 1 }' },
  },
  recent_signals: [
    { signal_id: 'u-1', dimension: 'build_health', signal_type: 'anomaly', severity: 'high', score: 3.2, created_at: '2026-01-01T00:00:00Z' },
    { signal_id: 'u-2', dimension: 'focus', signal_type: 'context_switch', severity: 'low', score: -0.5, created_at: '2026-01-01T00:00:00Z' },
  ],
  playbook_id: 'pb-1',
  playbook_version: 3,
  playbook_name: 'Build health',
};

const pass = (text: unknown, safety: Record<string, unknown> = {}) => ({
  text: typeof text === 'string' ? text : JSON.stringify(text),
  safety: { status: 'pass', risk_flags: [], redaction_summary: null, ...safety },
});

describe('mentor evidence and rationale', () => {
  it('when the context has a signal, a run, recent signals, a file and a playbook, then each is evidence with a link', () => {
    expect(collectEvidence(ctx).map((e) => [e.id, e.link])).toEqual([
      ['E1', 'signal:ubi/sig-1'],
      ['E2', 'run:run-7'],
      ['E3', 'ubi-signal:u-1'],
      ['E4', 'ubi-signal:u-2'],
      ['E5', 'file:src/secret-project/alice.ts'],
      ['E6', 'playbook:pb-1@v3'],
    ]);
  });

  it('when recent signals exist, then the baseline comparison names the strongest deviation; none gives null', () => {
    expect(baselineComparison(ctx.recent_signals)).toBe("build_health/anomaly is 3.2 above the actor's baseline (2 recent signals)");
    expect(baselineComparison([])).toBeNull();
    expect(templateRationale({ ...ctx, signal: null, recent_signals: [], file_path: null }).evidence_links).toEqual(['playbook:pb-1@v3']);
  });

  it('when the prompt is built, then it carries the actor id and numbers but no file path, payload strings, e-mail or code', () => {
    const prompt = buildMentorPrompt(ctx, { title: 'Builds on {{branch}}', body: 'Try {{signal.payload.snippet}}' }, collectEvidence(ctx));
    expect(prompt).toContain('alice');
    expect(prompt).toContain('failures=4');
    for (const leaked of ['secret-project', 'bob@example.com', 'function f()', 'mail ']) expect(prompt).not.toContain(leaked);
  });
});

describe('gateway answers', () => {
  const evidence = collectEvidence(ctx);
  const fallback = templateRationale(ctx);

  it('when blocked, risk-flagged, missing safety or not JSON, then the template stands with the reason', () => {
    expect(interpretGatewayAnswer({ text: 'x', safety: { status: 'blocked' } }, evidence, fallback)).toEqual({ kind: 'fallback', reason: 'llm_output_blocked' });
    expect(interpretGatewayAnswer(pass({ claims: [] }, { risk_flags: ['pii'] }), evidence, fallback)).toEqual({ kind: 'fallback', reason: 'llm_risk_flagged' });
    expect(interpretGatewayAnswer({ text: '{}' }, evidence, fallback)).toEqual({ kind: 'fallback', reason: 'llm_safety_missing' });
    expect(interpretGatewayAnswer(pass('not json'), evidence, fallback)).toEqual({ kind: 'fallback', reason: 'llm_invalid_response' });
  });

  it('when some claims cite no known evidence, then they are dropped and the rest is kept with only the links it cites', () => {
    const r = interpretGatewayAnswer(
      pass('```json\n' + JSON.stringify({ title: 'T {{x}}', claims: [{ text: 'A.', evidence: ['E1'] }, { text: 'B.', evidence: ['E42'] }, { text: 'C.' }, { text: 'D.', evidence: ['E3', 'E6'] }] }) + '\n```', { redaction_summary: { emails: 2 } }),
      evidence,
      fallback,
    );
    expect(r).toEqual({
      kind: 'enriched',
      title: 'T x',
      body: 'A. D.',
      rationale: { evidence_links: ['signal:ubi/sig-1', 'ubi-signal:u-1', 'playbook:pb-1@v3'], baseline_comparison: fallback.baseline_comparison, why_relevant: fallback.why_relevant },
      redactions: { emails: 2 },
      dropped_claims: 2,
    });
  });

  it('when no claim cites evidence, then the template stands', () => {
    expect(interpretGatewayAnswer(pass({ claims: [{ text: 'Trust me.', evidence: [] }] }), evidence, fallback)).toEqual({ kind: 'fallback', reason: 'llm_claims_without_evidence' });
  });
});

describe('mentor planning in the decision', () => {
  const matched = [
    {
      playbook_id: 'pb-1',
      version: 1,
      trigger: { kind: 'request' },
      definition: playbookInputSchema.parse({ name: 'M', category: 'c', triggers: [{ kind: 'request' }], actions: [{ type: 'mentor', title: 'T', body: 'B' }] }),
    },
  ];
  const request = { actor_id: 'alice', actor_type: 'human' as const, surface: 'ide' as const };
  const plan = planActions({ request, matched, policy: DEFAULT_TENANT_POLICY, preferences: { ...DEFAULT_PREFERENCES }, now: new Date('2026-01-01T12:00:00Z'), newActionId: () => 'act_1', supportedTypes: ['mirror', 'mentor'] });
  const args = { request, matched, recent_signals: [] };

  it.each([
    [false, null, { status: 'template', reason: 'llm_disabled' }, [], 0],
    [true, { configured: false, circuit_open: false }, { status: 'template', reason: 'llm_gateway_unset' }, ['llm_gateway_unset'], 0],
    [true, { configured: true, circuit_open: true }, { status: 'template', reason: 'llm_gateway_circuit_open' }, ['llm_gateway_circuit_open'], 0],
    [true, { configured: true, circuit_open: false }, { status: 'pending', reason: null }, [], 1],
  ])('when llm_enabled is %s and the gateway is %j, then the mentor is marked %j', (llmEnabled, gateway, enrichment, degraded, tasks) => {
    const out = planMentorActions(plan, { ...args, llm_enabled: llmEnabled, gateway });
    expect(out.plan.candidates[0].action.payload.enrichment).toEqual(enrichment);
    expect(out.plan.candidates[0].action.payload.rationale?.evidence_links).toEqual(['playbook:pb-1@v1']);
    expect(out.degraded_reasons).toEqual(degraded);
    expect(out.tasks).toHaveLength(tasks);
  });

  it('when a playbook has two mentor actions, then each task carries its own unfilled wording for the prompt', () => {
    const two = [
      {
        ...matched[0],
        definition: playbookInputSchema.parse({
          name: 'M2',
          category: 'c',
          triggers: [{ kind: 'request' }],
          actions: [
            { type: 'mentor', title: 'First on {{surface}}', body: 'One', priority: 60 },
            { type: 'mentor', title: 'Second on {{surface}}', body: 'Two', priority: 50 },
          ],
        }),
      },
    ];
    let n = 0;
    const p2 = planActions({ request, matched: two, policy: DEFAULT_TENANT_POLICY, preferences: { ...DEFAULT_PREFERENCES }, now: new Date('2026-01-01T12:00:00Z'), newActionId: () => `act_${++n}`, supportedTypes: ['mentor'] });
    const out = planMentorActions(p2, { ...args, matched: two, llm_enabled: true, gateway: { configured: true, circuit_open: false } });
    expect(out.tasks.map((t) => [t.template.title, t.fallback_title])).toEqual([
      ['First on {{surface}}', 'First on ide'],
      ['Second on {{surface}}', 'Second on ide'],
    ]);
  });
});
