import { classifyString } from '../../domain/privacy/detectors';
import { GITLEAKS_RULES } from '../../domain/privacy/gitleaks-rules';
import { filterDecideRequest, PII_MASK, REMOVED_PLACEHOLDER } from '../../domain/privacy/privacy-filter';
import { templateValues } from '../../domain/rendering';
import type { DecideRequest } from '../../domain/model/decision';

const request = (over: Partial<DecideRequest> = {}): DecideRequest => ({
  tenant_id: 't1',
  actor_id: 'dev-1',
  actor_type: 'human',
  surface: 'pr',
  repo_id: 'payments',
  branch: 'feature/retry',
  file_path: 'src/retry.ts',
  signal: { signal_id: 'sig-1', source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: '2026-11-22T09:00:00Z', payload: { failures: 4, failing_step: 'unit-tests' } },
  ...over,
});

describe('the vendored gitleaks rules', () => {
  it('when the rule set is loaded, then it holds the rules of the common providers and every one compiles', () => {
    const ids = GITLEAKS_RULES.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['github-pat', 'aws-access-token', 'slack-bot-token', 'gcp-api-key', 'stripe-access-token', 'private-key', 'jwt', 'generic-api-key']));
    for (const r of GITLEAKS_RULES) expect(() => new RegExp(r.source, r.flags)).not.toThrow();
  });

  it.each([
    ['a Stripe restricted key', 'rk_live_51H8zAbCdEfGhIjKlMnOpQrStUv'],
    ['a GitLab token', 'glpat-A1b2C3d4E5f6G7h8I9j0'],
    ['an npm token', 'npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'],
    ['a SendGrid key', 'SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg'],
    ['an OpenSSH private key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----'],
    ['a key assignment', 'api_key = "Zx8Qw2Lk9Pm4Rt7Yb3Nc"'],
  ])('when a value is %s, then it is a secret', (_label, value) => {
    expect(classifyString(value)).toBe('secret_or_token');
  });

  it.each(['feature/retry', 'src/retry.ts', 'release-2026.11', 'payments', 'unit-tests', '2026-11-22T09:00:00Z', 'build_failures'])(
    'when a value is the ordinary %j, then it is clean',
    (value) => {
      expect(classifyString(value)).toBeNull();
    },
  );

  it.each(['\u202Eexe.txt', 'main\u0000', 'ok\u200F'])('when a value %j holds control or bidi characters, then it is flagged', (value) => {
    expect(classifyString(value)).toBe('control_characters');
  });
});

describe('filterDecideRequest', () => {
  it('when a request is clean, then it comes back unchanged with nothing dropped', () => {
    expect(filterDecideRequest(request())).toEqual({ ok: true, request: request(), dropped_fields: [] });
  });

  it('when optional fields and payload values hold a token, an address, code or free text, then they are dropped and named, never echoed', () => {
    const r = filterDecideRequest(
      request({
        branch: 'jane.doe@example.com',
        file_path: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
        repo_id: 'function f() { return 1; }',
        signal: { ...request().signal!, payload: { failures: 4, aws: 'AKIAIOSFODNN7EXAMPLE', note: 'please look at this before friday', ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8: 1 } },
      }),
    );
    expect(r).toEqual({
      ok: true,
      request: { ...request(), branch: undefined, file_path: undefined, repo_id: undefined, signal: { ...request().signal!, payload: { failures: 4 } } },
      dropped_fields: ['repo_id', 'branch', 'file_path', 'signal.payload.aws', 'signal.payload.note', 'signal.payload[3]'],
    });
    expect(JSON.stringify(r)).not.toMatch(/AKIA|ghp_|jane|friday/);
    if (r.ok) expect(Object.keys(r.request)).not.toContain('branch');
  });

  it.each([
    ['actor_id', request({ actor_id: 'jane.doe@example.com' }), 'email_address'],
    ['tenant_id', request({ tenant_id: 'AKIAIOSFODNN7EXAMPLE' }), 'secret_or_token'],
    ['signal.signal_id', request({ signal: { ...request().signal!, signal_id: 'bob@corp.example' } }), 'email_address'],
  ])('when the required %s names a person or is a secret, then the request is refused on that field', (field, req, reason) => {
    expect(filterDecideRequest(req)).toEqual({ ok: false, field, reason });
  });

  it("when data governance allows some fields and names pii fields, then only allowed optional fields are kept and the pii ones masked", () => {
    const r = filterDecideRequest(request(), { allowed_fields: ['branch', 'signal.payload'], pii_fields: ['branch', 'signal.payload.failing_step'] });
    expect(r).toEqual({
      ok: true,
      request: { ...request(), repo_id: undefined, file_path: undefined, branch: PII_MASK, signal: { ...request().signal!, payload: { failures: 4, failing_step: PII_MASK } } },
      dropped_fields: ['repo_id', 'file_path'],
    });
  });
});

describe('placeholders at render time', () => {
  it('when a placeholder value is sensitive however it got there, then it renders as removed', () => {
    const values = templateValues({ ...request(), branch: 'xoxb-123456789012-abcdefghij', signal: { ...request().signal!, payload: { who: 'jane.doe@example.com', failures: 4 } } });
    expect(values.branch).toBe(REMOVED_PLACEHOLDER);
    expect(values['signal.payload.who']).toBe(REMOVED_PLACEHOLDER);
    expect(values['signal.payload.failures']).toBe(4);
    expect(values.repo_id).toBe('payments');
  });
});

describe('cost', () => {
  it('when every field of a request carries the keywords of the rules that backtrack most, then filtering it stays well under a second', () => {
    // Before the generator dropped the leading lazy prefixes, this request took ~1.3 s of CPU (JavaScript backtracks
    // where gitleaks' RE2 does not); now ~20 ms. Bounded loosely: the machine is shared.
    const kw = 'okta-cohere-meraki-sumo-privateai-heroku-';
    const long = (n: number) => (kw + 'a'.repeat(n)).slice(0, n);
    const payload = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, long(512)]));
    const started = performance.now();
    const r = filterDecideRequest(request({ repo_id: long(200), branch: long(255), file_path: long(1024), signal: { ...request().signal!, payload } }));
    expect(performance.now() - started).toBeLessThan(400);
    expect(r.ok).toBe(true);
  });
});
