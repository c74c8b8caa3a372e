import { matchPlaybooks, readField, type MatchInput } from '../../domain/playbook-matching';
import { playbookInputSchema, type PublishedPlaybook } from '../../domain/model/playbook';
import type { Signal } from '../../domain/model/signal';

/** Builds a playbook through the real schema, so defaults are what production sees. */
function playbook(id: string, definition: Record<string, unknown>, version = 1): PublishedPlaybook {
  return {
    playbook_id: id,
    version,
    definition: playbookInputSchema.parse({
      name: `Playbook ${id}`,
      category: 'flow',
      actions: [{ type: 'mirror', title: 'Recent activity', body: 'Branch {{branch}} saw activity.' }],
      ...definition,
    }),
  };
}

function signal(overrides: Partial<Signal> = {}): Signal {
  return {
    signal_id: 'sig-1',
    source: 'ubi',
    kind: 'build_failed',
    severity: 'medium',
    occurred_at: '2024-01-15T10:00:00Z',
    payload: {},
    ...overrides,
  };
}

const base: MatchInput = { actor_type: 'human', surface: 'ide', repo_id: 'repo-1', branch: 'feature/x', file_path: 'src/a.ts' };
const ids = (pbs: PublishedPlaybook[], input: MatchInput) => matchPlaybooks(pbs, input).map((m) => m.playbook_id);

describe('matchPlaybooks: triggers', () => {
  it('when the signal kind equals the trigger kind, then the playbook matches with that trigger and version', () => {
    const pb = playbook('pb-a', { triggers: [{ kind: 'build_failed' }] }, 7);
    const result = matchPlaybooks([pb], { ...base, signal: signal() });
    expect(result).toHaveLength(1);
    expect(result[0].playbook_id).toBe('pb-a');
    expect(result[0].version).toBe(7);
    expect(result[0].trigger).toEqual({ kind: 'build_failed' });
    expect(result[0].definition).toBe(pb.definition);
  });

  it('when the signal kind differs, then the playbook does not match', () => {
    const pb = playbook('pb-a', { triggers: [{ kind: 'deploy_failed' }] });
    expect(ids([pb], { ...base, signal: signal() })).toEqual([]);
  });

  it('when the first trigger does not fire but the second does, then the second is reported', () => {
    const pb = playbook('pb-a', { triggers: [{ kind: 'deploy_failed' }, { kind: 'build_failed', source: 'ubi' }] });
    expect(matchPlaybooks([pb], { ...base, signal: signal() })[0].trigger).toEqual({ kind: 'build_failed', source: 'ubi' });
  });

  it('when the signal severity is below, at or above min_severity, then only at and above match', () => {
    const pb = playbook('pb-a', { triggers: [{ kind: 'build_failed', min_severity: 'medium' }] });
    expect(ids([pb], { ...base, signal: signal({ severity: 'low' }) })).toEqual([]);
    expect(ids([pb], { ...base, signal: signal({ severity: 'info' }) })).toEqual([]);
    expect(ids([pb], { ...base, signal: signal({ severity: 'medium' }) })).toEqual(['pb-a']);
    expect(ids([pb], { ...base, signal: signal({ severity: 'critical' }) })).toEqual(['pb-a']);
  });

  it('when the trigger names a source, then only signals from that source match; without one any source does', () => {
    const withSource = playbook('pb-src', { triggers: [{ kind: 'build_failed', source: 'detection' }] });
    const anySource = playbook('pb-any', { triggers: [{ kind: 'build_failed' }] });
    expect(ids([withSource, anySource], { ...base, signal: signal({ source: 'ubi' }) })).toEqual(['pb-any']);
    expect(ids([withSource, anySource], { ...base, signal: signal({ source: 'detection' }) })).toEqual(['pb-src', 'pb-any']);
  });

  it('when the trigger lists surfaces, then a request from another surface does not match', () => {
    const pb = playbook('pb-a', { triggers: [{ kind: 'build_failed', surfaces: ['pr', 'ci'] }] });
    expect(ids([pb], { ...base, surface: 'ide', signal: signal() })).toEqual([]);
    expect(ids([pb], { ...base, surface: 'ci', signal: signal() })).toEqual(['pb-a']);
  });

  it('when a request carries no signal, then only request triggers match', () => {
    const onRequest = playbook('pb-req', { triggers: [{ kind: 'request' }] });
    const onSignal = playbook('pb-sig', { triggers: [{ kind: 'build_failed' }] });
    expect(ids([onRequest, onSignal], base)).toEqual(['pb-req']);
    expect(ids([onRequest, onSignal], { ...base, signal: null })).toEqual(['pb-req']);
  });

  it('when a request carries a signal, then a request trigger does not match it', () => {
    const onRequest = playbook('pb-req', { triggers: [{ kind: 'request' }] });
    expect(ids([onRequest], { ...base, signal: signal() })).toEqual([]);
  });

  it('when a request trigger lists surfaces, then it matches only requests from those surfaces', () => {
    const pb = playbook('pb-req', { triggers: [{ kind: 'request', surfaces: ['pr'] }] });
    expect(ids([pb], { ...base, surface: 'ide' })).toEqual([]);
    expect(ids([pb], { ...base, surface: 'pr' })).toEqual(['pb-req']);
  });

  it('when several playbooks match, then they come back in input order', () => {
    const pbs = [
      playbook('pb-z', { triggers: [{ kind: 'request' }] }),
      playbook('pb-a', { triggers: [{ kind: 'request' }] }),
    ];
    expect(ids(pbs, base)).toEqual(['pb-z', 'pb-a']);
  });
});

describe('matchPlaybooks: actor types', () => {
  it('when actor_types excludes the actor type, then the playbook does not match', () => {
    const humansOnly = playbook('pb-h', { triggers: [{ kind: 'request' }], actor_types: ['human'] });
    const agentsOnly = playbook('pb-ai', { triggers: [{ kind: 'request' }], actor_types: ['ai_agent'] });
    const everyone = playbook('pb-all', { triggers: [{ kind: 'request' }] });
    expect(ids([humansOnly, agentsOnly, everyone], { ...base, actor_type: 'ai_agent' })).toEqual(['pb-ai', 'pb-all']);
    expect(ids([humansOnly, agentsOnly, everyone], { ...base, actor_type: 'human' })).toEqual(['pb-h', 'pb-all']);
  });
});

describe('matchPlaybooks: conditions', () => {
  const withConditions = (conditions: unknown[]) => playbook('pb-c', { triggers: [{ kind: 'build_failed' }], conditions });
  const matches = (conditions: unknown[], input: MatchInput) => ids([withConditions(conditions)], input).length === 1;
  const req = (payload: Signal['payload'] = {}, over: Partial<MatchInput> = {}): MatchInput => ({
    ...base,
    ...over,
    signal: signal({ payload }),
  });

  it('when eq compares a present field, then it is strict equality', () => {
    expect(matches([{ field: 'branch', op: 'eq', value: 'feature/x' }], req())).toBe(true);
    expect(matches([{ field: 'branch', op: 'eq', value: 'main' }], req())).toBe(false);
    // A numeric string is not the number: no coercion.
    expect(matches([{ field: 'signal.payload.count', op: 'eq', value: 5 }], req({ count: '5' }))).toBe(false);
    expect(matches([{ field: 'signal.payload.count', op: 'eq', value: 5 }], req({ count: 5 }))).toBe(true);
  });

  it('when neq compares, then a different value holds and an equal one does not', () => {
    expect(matches([{ field: 'repo_id', op: 'neq', value: 'repo-2' }], req())).toBe(true);
    expect(matches([{ field: 'repo_id', op: 'neq', value: 'repo-1' }], req())).toBe(false);
  });

  it('when in lists values, then membership decides', () => {
    expect(matches([{ field: 'surface', op: 'in', value: ['ide', 'pr'] }], req())).toBe(true);
    expect(matches([{ field: 'surface', op: 'in', value: ['ci', 'pr'] }], req())).toBe(false);
    expect(matches([{ field: 'signal.severity', op: 'in', value: ['medium', 'high'] }], req())).toBe(true);
  });

  it('when matches tests a regex, then it applies to string fields only', () => {
    expect(matches([{ field: 'branch', op: 'matches', value: '^feature/' }], req())).toBe(true);
    expect(matches([{ field: 'branch', op: 'matches', value: '^release/' }], req())).toBe(false);
    expect(matches([{ field: 'file_path', op: 'matches', value: '\\.ts$' }], req())).toBe(true);
    expect(matches([{ field: 'signal.payload.n', op: 'matches', value: '^4' }], req({ n: 42 }))).toBe(false);
  });

  it('when gte and lte compare numbers, then the bounds are inclusive and non-numbers never match', () => {
    expect(matches([{ field: 'signal.payload.flaky', op: 'gte', value: 3 }], req({ flaky: 3 }))).toBe(true);
    expect(matches([{ field: 'signal.payload.flaky', op: 'gte', value: 3 }], req({ flaky: 2 }))).toBe(false);
    expect(matches([{ field: 'signal.payload.flaky', op: 'lte', value: 3 }], req({ flaky: 3 }))).toBe(true);
    expect(matches([{ field: 'signal.payload.flaky', op: 'lte', value: 3 }], req({ flaky: 4 }))).toBe(false);
    expect(matches([{ field: 'signal.payload.flaky', op: 'gte', value: 3 }], req({ flaky: '9' }))).toBe(false);
    expect(matches([{ field: 'signal.payload.flaky', op: 'lte', value: 3 }], req({ flaky: true }))).toBe(false);
  });

  it('when the field is missing, then eq, in, matches, gte and lte fail and neq holds', () => {
    const noBranch = req({}, { branch: null });
    expect(matches([{ field: 'branch', op: 'eq', value: 'main' }], noBranch)).toBe(false);
    expect(matches([{ field: 'branch', op: 'neq', value: 'main' }], noBranch)).toBe(true);
    expect(matches([{ field: 'branch', op: 'in', value: ['main'] }], noBranch)).toBe(false);
    expect(matches([{ field: 'branch', op: 'matches', value: '.*' }], noBranch)).toBe(false);
    expect(matches([{ field: 'signal.payload.absent', op: 'gte', value: 0 }], noBranch)).toBe(false);
    expect(matches([{ field: 'signal.payload.absent', op: 'lte', value: 0 }], noBranch)).toBe(false);
  });

  it('when every condition holds, then it matches; when one fails, then it does not', () => {
    const conds = [
      { field: 'actor_type', op: 'eq', value: 'human' },
      { field: 'branch', op: 'matches', value: '^feature/' },
      { field: 'signal.payload.flaky', op: 'gte', value: 2 },
    ];
    expect(matches(conds, req({ flaky: 2 }))).toBe(true);
    expect(matches(conds, req({ flaky: 1 }))).toBe(false);
    expect(matches(conds, req({ flaky: 2 }, { actor_type: 'ai_agent' }))).toBe(false);
  });

  it('when a request trigger fires, then signal conditions see a missing signal', () => {
    const pb = playbook('pb-r', {
      triggers: [{ kind: 'request' }],
      conditions: [{ field: 'signal.kind', op: 'neq', value: 'build_failed' }],
    });
    expect(ids([pb], base)).toEqual(['pb-r']);
  });
});

describe('readField', () => {
  const input: MatchInput = {
    ...base,
    signal: signal({ kind: 'tests_flaky', source: 'test', severity: 'high', payload: { flaky: 4, owner: 'team-a', gone: null } }),
  };

  it('when reading each known path, then the request or signal value comes back', () => {
    expect(readField(input, 'actor_type')).toBe('human');
    expect(readField(input, 'surface')).toBe('ide');
    expect(readField(input, 'repo_id')).toBe('repo-1');
    expect(readField(input, 'branch')).toBe('feature/x');
    expect(readField(input, 'file_path')).toBe('src/a.ts');
    expect(readField(input, 'signal.kind')).toBe('tests_flaky');
    expect(readField(input, 'signal.source')).toBe('test');
    expect(readField(input, 'signal.severity')).toBe('high');
    expect(readField(input, 'signal.payload.flaky')).toBe(4);
    expect(readField(input, 'signal.payload.owner')).toBe('team-a');
  });

  it('when a payload key is explicitly null, then it reads as null, not as missing', () => {
    expect(readField(input, 'signal.payload.gone')).toBeNull();
  });

  it('when a field is absent or unknown, then it reads as undefined', () => {
    expect(readField({ actor_type: 'human', surface: 'pr' }, 'branch')).toBeUndefined();
    expect(readField({ actor_type: 'human', surface: 'pr', repo_id: null }, 'repo_id')).toBeUndefined();
    expect(readField({ actor_type: 'human', surface: 'pr' }, 'signal.kind')).toBeUndefined();
    expect(readField(input, 'signal.payload.missing')).toBeUndefined();
    expect(readField(input, 'tenant_id')).toBeUndefined();
  });

  it('when a payload key names an Object.prototype member, then it is not read from the prototype', () => {
    expect(readField(input, 'signal.payload.constructor')).toBeUndefined();
    expect(readField(input, 'signal.payload.toString')).toBeUndefined();
  });
});
