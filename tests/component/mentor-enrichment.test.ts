/**
 * Mentor actions end to end with a test LLM gateway (a real HTTP server started here): the decision answers at once
 * with the template marked pending, the enrichment workflow carries on, and GET /v1/mmm/decisions/{id} shows the
 * enriched payload, or the template with the reason in degraded_reasons when the gateway is unset, down, slow or
 * unsafe. The prompt carries only minimised context.
 */
import { startFakeService, type FakeReply, type FakeService } from '../support/fake-service';
import { startTestApp, useTestApp, type TestApp } from '../support/harness';
import { buildFailuresSignal, decide, decideBody, newTenant, publishPlaybook, putPolicy, type TenantFixture } from './fixtures';

jest.setTimeout(60000);

/** Replies per tenant: each test arranges its own gateway behaviour. */
const replies = new Map<string, FakeReply>();
let gateway: FakeService;
beforeAll(async () => {
  gateway = await startFakeService((call) => replies.get(call.body?.tenant_id) ?? { status: 500, body: { error: 'no reply arranged' } });
});
afterAll(async () => {
  await gateway.close();
});
const app = useTestApp(() => ({ LLM_GATEWAY_BASE_URL: gateway.url }));

const mentorPlaybook = {
  name: 'Build failures mentor',
  category: 'build_health',
  triggers: [{ source: 'ubi', kind: 'build_failures', min_severity: 'low' }],
  actions: [
    { type: 'mentor', title: 'Builds on {{branch}} keep failing', body: 'Running the failing step locally first can save a round trip.', surfaces: ['ide', 'ci'], cooldown_minutes: 0 },
  ],
};

function passAnswer(text: unknown, extra: Record<string, unknown> = {}): FakeReply {
  return { status: 200, body: { text: typeof text === 'string' ? text : JSON.stringify(text), safety: { status: 'pass', risk_flags: [], redaction_summary: { count: 0 }, ...extra } } };
}

async function setUp(a: TestApp, reply?: FakeReply) {
  const fx = newTenant(a);
  await putPolicy(a, fx, { llm_enabled: true });
  await publishPlaybook(a, fx.admin, mentorPlaybook);
  if (reply) replies.set(fx.tenant, reply);
  return fx;
}

// An address in the branch and code in the payload: the privacy filter drops both before the decision (ADR 0013), and
// the prompt is minimised again on its own.
const secretBranch = 'feature/alice@example.com-fix';
const DROPPED = ['branch', 'signal.payload.failing_step'];
function mentorDecide(a: TestApp, fx: TenantFixture, surface = 'ide') {
  return decide(a, fx.service, decideBody(fx.tenant, {
    surface,
    repo_id: 'payments',
    branch: secretBranch,
    file_path: 'src/payments/charge.ts',
    signal: buildFailuresSignal(4, { payload: { failures: 4, failing_step: 'const key = "sk_live_123"', run_id: 'run-991' } }),
  }));
}

async function waitForEnrichment(a: TestApp, fx: TenantFixture, decisionId: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await a.request('GET', `/v1/mmm/decisions/${decisionId}`, { token: fx.service });
    const mentor = res.body.actions.find((x: { type: string }) => x.type === 'mentor');
    if (mentor.payload.enrichment.status !== 'pending') return { decision: res.body, mentor };
    if (Date.now() > deadline) throw new Error('enrichment stayed pending');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mentor actions with an LLM gateway', () => {
  it('when the gateway answers safely with cited claims, then the decision answers with the template pending and GET later returns the enriched payload without the uncited claim', async () => {
    const fx = await setUp(app, {
      ...passAnswer(
        {
          title: 'Four failed builds today',
          claims: [
            { text: 'Four builds failed today in the same step.', evidence: ['E1'] },
            { text: 'Your teammates all think this is careless.', evidence: [] },
            { text: 'The latest failing run is run-991.', evidence: ['E2', 'E99'] },
          ],
          why_relevant: 'Repeated failures in one step usually have one cause.',
        },
        { redaction_summary: { emails: 1 } },
      ),
      delayMs: 2_000,
    });

    const started = Date.now();
    const res = await mentorDecide(app, fx);
    const answeredIn = Date.now() - started;
    expect(res.status).toBe(200);
    // Not held up by the gateway's 2 s: the template answers, marked pending.
    expect(answeredIn).toBeLessThan(1_500);
    const template = res.body.actions.find((x: { type: string }) => x.type === 'mentor');
    expect(template.payload.enrichment).toEqual({ status: 'pending', reason: null });
    expect(template.payload.title).toBe('Builds on unknown keep failing');
    expect(res.body.dropped_fields).toEqual(DROPPED);
    expect(template.payload.rationale).toEqual({
      evidence_links: [expect.stringMatching(/^signal:ubi\/sig-/), 'run:run-991', 'file:src/payments/charge.ts', expect.stringMatching(/^playbook:pb_/)],
      baseline_comparison: null,
      why_relevant: expect.stringContaining('build_failures'),
    });

    const { decision, mentor } = await waitForEnrichment(app, fx, res.body.decision_id);
    expect(mentor.payload.enrichment).toEqual({ status: 'enriched', reason: null, redactions: { emails: 1 }, dropped_claims: 1 });
    expect(mentor.payload.title).toBe('Four failed builds today');
    expect(mentor.payload.body).toBe('Four builds failed today in the same step. The latest failing run is run-991.');
    expect(mentor.payload.body).not.toContain('careless');
    expect(mentor.payload.rendered.ide).toEqual(expect.objectContaining({ title: 'Four failed builds today', tone: 'guidance' }));
    expect(mentor.payload.rendered.ci).toContain('run\\-991');
    expect(mentor.payload.rationale).toEqual({
      evidence_links: [expect.stringMatching(/^signal:ubi\/sig-/), 'run:run-991'],
      baseline_comparison: null,
      why_relevant: 'Repeated failures in one step usually have one cause.',
    });
    expect(decision.degraded_reasons).toEqual(['privacy_fields_dropped']);

    // The prompt: minimised context only.
    const [call] = gateway.calls.filter((c) => c.body?.tenant_id === fx.tenant);
    expect(call.path).toBe('/v1/llm/generate');
    expect(call.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(call.body.max_tokens).toBeGreaterThan(0);
    expect(call.body.prompt).toContain('alice');
    expect(call.body.prompt).toContain('failures=4');
    for (const leaked of ['charge.ts', 'example.com', secretBranch, 'sk_live_123', 'const key', 'payments']) expect(call.body.prompt).not.toContain(leaked);
  });

  it.each([
    ['the gateway is down', { status: 503, body: { error: 'down' } } as FakeReply, 'llm_gateway_unavailable'],
    ['the gateway is slower than its 3 s timeout', { ...passAnswer({ claims: [] }), delayMs: 3_500 } as FakeReply, 'llm_gateway_timeout'],
    ['the answer is blocked', { status: 200, body: { text: 'x', safety: { status: 'blocked', risk_flags: ['self_harm'], redaction_summary: null } } } as FakeReply, 'llm_output_blocked'],
    ['the answer carries risk flags', passAnswer({ claims: [{ text: 'ok', evidence: ['E1'] }] }, { risk_flags: ['coercion'] }), 'llm_risk_flagged'],
    ['no claim cites evidence', passAnswer({ title: 'x', claims: [{ text: 'Trust me.', evidence: [] }] }), 'llm_claims_without_evidence'],
  ])('when %s, then the template stands and the reason is in degraded_reasons', async (_name, reply, reason) => {
    const fx = await setUp(app, reply);
    const res = await mentorDecide(app, fx, 'ci');
    expect(res.status).toBe(200);
    const template = res.body.actions.find((x: { type: string }) => x.type === 'mentor');
    expect(template.payload.enrichment.status).toBe('pending');

    const { decision, mentor } = await waitForEnrichment(app, fx, res.body.decision_id);
    expect(mentor.payload.enrichment).toEqual({ status: 'template', reason });
    expect(mentor.payload.title).toBe(template.payload.title);
    expect(mentor.payload.body).toBe(template.payload.body);
    expect(mentor.payload.rationale).toEqual(template.payload.rationale);
    expect(decision.degraded_mode).toBe(true);
    expect(decision.degraded_reasons).toContain(reason);
    const metrics = await app.request('GET', '/metrics');
    expect(metrics.body).toMatch(new RegExp(`mmm_mentor_enrichments_total\\{outcome="${reason}"\\} [1-9]`));
  });
});

describe('mentor actions without an LLM gateway', () => {
  it('when LLM_GATEWAY_BASE_URL is unset, then the decision shows the template with its rationale and says llm_gateway_unset at once', async () => {
    const bare = await startTestApp();
    try {
      const fx = await setUp(bare);
      const res = await mentorDecide(bare, fx);
      expect(res.status).toBe(200);
      const mentor = res.body.actions.find((x: { type: string }) => x.type === 'mentor');
      expect(mentor.payload.enrichment).toEqual({ status: 'template', reason: 'llm_gateway_unset' });
      expect(mentor.payload.rationale.evidence_links.length).toBeGreaterThan(0);
      expect(res.body.degraded_mode).toBe(true);
      expect(res.body.degraded_reasons).toEqual(['llm_gateway_unset', 'privacy_fields_dropped']);
    } finally {
      await bare.stop();
    }
  });
});

describe('mentor actions behind an open circuit breaker', () => {
  it('when the gateway has failed enough to open the breaker, then the next decision says llm_gateway_circuit_open at once and the gateway is not called', async () => {
    const down = await startFakeService(() => ({ status: 503, body: { error: 'down' } }));
    const a = await startTestApp({ LLM_GATEWAY_BASE_URL: down.url, CIRCUIT_BREAKER_FAILURES: '1' });
    try {
      const fx = await setUp(a);
      const first = await mentorDecide(a, fx);
      const { mentor } = await waitForEnrichment(a, fx, first.body.decision_id);
      expect(mentor.payload.enrichment).toEqual({ status: 'template', reason: 'llm_gateway_unavailable' });
      const callsBefore = down.calls.length;

      const second = await mentorDecide(a, fx);
      const template = second.body.actions.find((x: { type: string }) => x.type === 'mentor');
      expect(template.payload.enrichment).toEqual({ status: 'template', reason: 'llm_gateway_circuit_open' });
      expect(second.body.degraded_reasons).toEqual(['llm_gateway_circuit_open', 'privacy_fields_dropped']);
      expect(down.calls.length).toBe(callsBefore);
    } finally {
      await a.stop();
      await down.close();
    }
  });
});
