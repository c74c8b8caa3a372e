import { validateEvent } from '../../domain/model/ubi-event';
import { classifyString, filterProperties } from '../../domain/ubi/privacy';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const base = { event_id: 'e-1', tenant_id: 't1', actor_id: 'dev-1', actor_type: 'human', event_type: 'build_completed', occurred_at: '2026-03-10T11:00:00Z', source: 'ci', properties: { status: 'success', duration_ms: 1200 } };

describe('privacy classifier', () => {
  it.each([
    ['ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8', 'secret_or_token'],
    ['AKIAIOSFODNN7EXAMPLE', 'secret_or_token'],
    ['xoxb-123456789012-abcdefghij', 'secret_or_token'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk', 'secret_or_token'],
    ['-----BEGIN RSA PRIVATE KEY-----', 'secret_or_token'],
    ['password=hunter2', 'secret_or_token'],
    ['k9Xq2LmN8vB4zR7tY1wE5uI3oP6aS0dF2gH8jK4lZ', 'secret_or_token'],
    ['jane.doe@example.com', 'email_address'],
    ['function f() { return 1; }', 'source_code'],
    ['x => x + 1', 'source_code'],
    ['if (a === b)', 'source_code'],
    ['please fix the flaky test', 'free_text'],
    ['line one\nline two', 'free_text'],
  ])('when a value is %j, then it is classified as %s', (value, finding) => {
    expect(classifyString(value)).toBe(finding);
  });

  it.each(['pr-1234', 'repo/backend', 'main', '550e8400-e29b-41d4-a716-446655440000', 'probe-550e8400-e29b-41d4-a716-446655440000', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'sev2', 'team.payments'])('when a value is the identifier %j, then it is clean', (value) => {
    expect(classifyString(value)).toBeNull();
  });
});

describe('property allow-list', () => {
  it('when properties hold keys outside the allow-list or bad values, then those are dropped by name and only valid allowed ones kept', () => {
    const r = filterProperties('test_run_completed', { status: 'failure', test_count: 10, flaky_count: 12, note: 'hello', duration_ms: -1 });

    expect(r.kept).toEqual({ status: 'failure', test_count: 10 });
    expect(r.dropped).toEqual([
      { field: 'properties.note', reason: 'not_allowed' },
      { field: 'properties.duration_ms', reason: 'not_allowed' },
      { field: 'properties.flaky_count', reason: 'must not exceed test_count' },
    ]);
    expect(r.missing).toBeNull();
  });
});

describe('validateEvent', () => {
  it('when an event is valid, then it comes back typed with its timestamp parsed and nothing dropped', () => {
    const v = validateEvent(base, 't1', NOW);

    expect(v).toEqual({ ok: true, dropped: [], event: expect.objectContaining({ event_id: 'e-1', occurred_at: new Date('2026-03-10T11:00:00Z'), team_id: null, repo_id: null, properties: { status: 'success', duration_ms: 1200 } }) });
  });

  it.each([
    [{ ...base, occurred_at: '2026-03-10T12:30:00Z' }, 'in_the_future', 'occurred_at'],
    [{ ...base, occurred_at: '2024-01-01T00:00:00Z' }, 'too_old', 'occurred_at'],
    [{ ...base, event_id: undefined }, 'missing', 'event_id'],
    [{ ...base, actor_id: 'has space' }, 'invalid_id', 'actor_id'],
    [{ ...base, team_id: 'lead@corp.example' }, 'email_address', 'team_id'],
    [{ ...base, properties: [] }, 'invalid_properties', 'properties'],
    [{ ...base, properties: { status: 'meh' } }, 'required_property_dropped: must be one of success, failure', 'properties.status'],
    [{ ...base, extra: 1 }, 'unknown_field', 'extra'],
    ['not an object', 'not_an_object', '(event)'],
  ])('when an event is %j, then it is rejected as %s on %s', (raw, reason, field) => {
    expect(validateEvent(raw, 't1', NOW)).toEqual({ ok: false, reason, field });
  });
});
