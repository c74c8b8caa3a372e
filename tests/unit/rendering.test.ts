import { escapeMarkdown, footerLine, renderAction, templateValues, type RenderActionArgs } from '../../domain/rendering';
import { findPrescriptiveLanguage } from '../../domain/templates';
import { renderedSchema } from '../../domain/model/decision';

const ZWJ = '\u200D';
const HOSTILE = '<script>alert(1)</script>**x** @everyone';

function args(over: Partial<RenderActionArgs> = {}): RenderActionArgs {
  return {
    type: 'mirror',
    title: 'Activity on {{branch}}',
    body: 'Builds on {{branch}} in {{repo_id}} failed {{signal.payload.failures}} times.',
    values: { branch: HOSTILE, repo_id: 'repo-1', 'signal.payload.failures': 3 },
    severity: 'medium',
    surfaces: ['ide', 'pr', 'ci', 'alert'],
    playbookId: 'pb-builds',
    playbookVersion: 4,
    actionId: 'act-123',
    ...over,
  };
}

describe('escapeMarkdown', () => {
  it('when given a hostile branch name, then no tag, emphasis or mention survives', () => {
    expect(escapeMarkdown(HOSTILE)).toBe(`\\<script\\>alert\\(1\\)\\</script\\>\\*\\*x\\*\\* @${ZWJ}everyone`);
  });

  it('when given each Markdown special character, then each is backslash-escaped', () => {
    expect(escapeMarkdown('\\`*_{}[]()#+-.!|<>')).toBe('\\\\\\`\\*\\_\\{\\}\\[\\]\\(\\)\\#\\+\\-\\.\\!\\|\\<\\>');
  });

  it('when given control characters and line breaks, then breaks become spaces and the rest is dropped', () => {
    expect(escapeMarkdown('a\nb\u0000c\r\n# d\u202Ee')).toBe('a bc \\# de');
  });

  it('when given plain words, then they pass through unchanged', () => {
    expect(escapeMarkdown('feature/login flow 42')).toBe('feature/login flow 42');
  });
});

describe('templateValues', () => {
  it('when given a request with a signal, then every allowed placeholder key is filled', () => {
    const values = templateValues({
      actor_id: 'dev-1',
      actor_type: 'human',
      surface: 'pr',
      repo_id: 'repo-1',
      branch: 'main',
      file_path: 'src/a.ts',
      signal: {
        signal_id: 'sig-9',
        source: 'ubi',
        kind: 'build_failed',
        severity: 'high',
        occurred_at: '2024-01-15T10:00:00Z',
        payload: { failures: 3, flaky: true },
      },
    });
    expect({ ...values }).toEqual({
      actor_id: 'dev-1',
      actor_type: 'human',
      repo_id: 'repo-1',
      branch: 'main',
      file_path: 'src/a.ts',
      surface: 'pr',
      'signal.kind': 'build_failed',
      'signal.source': 'ubi',
      'signal.severity': 'high',
      'signal.occurred_at': '2024-01-15T10:00:00Z',
      'signal.signal_id': 'sig-9',
      'signal.payload.failures': 3,
      'signal.payload.flaky': true,
    });
  });

  it('when the request has no signal, then signal keys are null and render as "unknown"', () => {
    const values = templateValues({ actor_id: 'dev-1', actor_type: 'ai_agent', surface: 'ide' });
    expect(values['signal.kind']).toBeNull();
    expect(values.branch).toBeNull();
    const out = renderAction(args({ title: 'Kind {{signal.kind}}', body: 'On {{branch}}', values, surfaces: ['ide'] }));
    expect(out.title).toBe('Kind unknown');
    expect(out.body).toBe('On unknown');
  });

  it('when a placeholder names an Object.prototype member, then it is not found', () => {
    const values = templateValues({ actor_id: 'dev-1', actor_type: 'human', surface: 'ide' });
    expect(values['toString']).toBeUndefined();
  });
});

describe('renderAction', () => {
  it('when rendering for all surfaces, then the plain title and body keep values unescaped', () => {
    const out = renderAction(args());
    expect(out.title).toBe(`Activity on ${HOSTILE}`);
    expect(out.body).toBe(`Builds on ${HOSTILE} in repo-1 failed 3 times.`);
    expect(renderedSchema.parse(out.rendered)).toEqual(out.rendered);
  });

  it('when rendering a mirror for the IDE, then it is a neutral card with only a dismiss button', () => {
    const { rendered } = renderAction(args());
    expect(rendered.ide).toEqual({
      kind: 'card',
      title: `Activity on ${HOSTILE}`,
      body: `Builds on ${HOSTILE} in repo-1 failed 3 times.`,
      severity: 'medium',
      tone: 'neutral',
      // Snooze and "not useful" sit next to dismiss on every card (FR-10), each naming the outcome it records.
      buttons: [
        { id: 'dismiss', label: 'Dismiss', records: { outcome: 'dismissed' } },
        { id: 'snooze', label: 'Snooze', records: { outcome: 'snoozed' } },
        { id: 'not_useful', label: 'Not useful', records: { outcome: 'dismissed', reason: 'not_useful' } },
      ],
    });
  });

  it('when rendering mentor and multiplier cards, then tone and buttons follow the type, each with snooze and not useful', () => {
    const mentor = renderAction(args({ type: 'mentor', surfaces: ['ide'] })).rendered.ide;
    expect(mentor?.tone).toBe('guidance');
    expect(mentor?.buttons).toEqual([
      { id: 'accept', label: 'Helpful', records: { outcome: 'accepted' } },
      { id: 'dismiss', label: 'Dismiss', records: { outcome: 'dismissed' } },
      { id: 'snooze', label: 'Snooze', records: { outcome: 'snoozed' } },
      { id: 'not_useful', label: 'Not useful', records: { outcome: 'dismissed', reason: 'not_useful' } },
    ]);
    const multiplier = renderAction(args({ type: 'multiplier', surfaces: ['ide'] })).rendered.ide;
    expect(multiplier?.tone).toBe('action');
    expect(multiplier?.buttons).toEqual([
      { id: 'consent', label: 'Allow' },
      { id: 'dismiss', label: 'Not now', records: { outcome: 'dismissed' } },
      { id: 'snooze', label: 'Snooze', records: { outcome: 'snoozed' } },
      { id: 'not_useful', label: 'Not useful', records: { outcome: 'dismissed', reason: 'not_useful' } },
    ]);
  });

  it('when a hostile branch is rendered into a PR comment, then it is escaped and the comment is marked', () => {
    const pr = renderAction(args()).rendered.pr ?? '';
    const escaped = `\\<script\\>alert\\(1\\)\\</script\\>\\*\\*x\\*\\* @${ZWJ}everyone`;
    expect(pr).toBe(
      `**Activity on ${escaped}**\n\n` +
        `Builds on ${escaped} in repo\\-1 failed 3 times.\n\n` +
        '<sub>Mirror · playbook `pb-builds` v4 · a reflection of recent activity, no action requested</sub>\n\n' +
        '<!-- mmm-action:act-123 -->',
    );
    expect(pr).not.toContain('<script>');
    expect(pr).not.toContain('@everyone');
    expect(pr.endsWith('<!-- mmm-action:act-123 -->')).toBe(true);
  });

  it('when rendering for CI, then values are escaped, the template text is kept and the footer follows', () => {
    const ci = renderAction(args({ values: { branch: 'main', repo_id: 'org.repo', 'signal.payload.failures': 2 } })).rendered.ci;
    expect(ci).toBe(
      '### Activity on main\n\nBuilds on main in org\\.repo failed 2 times.\n\n' +
        '<sub>Mirror · playbook `pb-builds` v4 · a reflection of recent activity, no action requested</sub>\n',
    );
  });

  it('when rendering an alert, then it is plain title, text and severity', () => {
    const { rendered } = renderAction(args({ severity: 'critical', values: { branch: 'main', repo_id: 'r' } }));
    expect(rendered.alert).toEqual({ title: 'Activity on main', text: 'Builds on main in r failed unknown times.', severity: 'critical' });
  });

  it('when only some surfaces are asked for, then only those keys are rendered', () => {
    expect(Object.keys(renderAction(args({ surfaces: ['pr'] })).rendered)).toEqual(['pr']);
    expect(Object.keys(renderAction(args({ surfaces: ['alert', 'ide'] })).rendered).sort()).toEqual(['alert', 'ide']);
    expect(renderAction(args({ surfaces: [] })).rendered).toEqual({});
  });

  it('when a title template spans lines, then the PR and CI headings stay on one line', () => {
    const { rendered } = renderAction(args({ title: 'Line one\nline two', values: {}, surfaces: ['pr', 'ci'] }));
    expect(rendered.pr?.startsWith('**Line one line two**\n\n')).toBe(true);
    expect(rendered.ci?.startsWith('### Line one line two\n\n')).toBe(true);
  });

  it('when an id carries characters that could close the comment, then they are dropped', () => {
    const pr = renderAction(args({ actionId: 'a --> <b>', playbookId: 'pb`x', surfaces: ['pr'] })).rendered.pr ?? '';
    expect(pr.endsWith('<!-- mmm-action:a--b -->')).toBe(true);
    expect(pr).toContain('playbook `pbx` v4');
  });
});

describe('footerLine', () => {
  it('when the action is a mirror, then the footer carries no prescriptive wording', () => {
    const footer = footerLine('mirror', 'pb-1', 2);
    expect(footer).toBe('Mirror · playbook `pb-1` v2 · a reflection of recent activity, no action requested');
    expect(findPrescriptiveLanguage(footer)).toEqual([]);
  });

  it('when the action is a mentor or multiplier, then the footer names the kind', () => {
    expect(footerLine('mentor', 'pb-1', 1)).toBe('Mentor · playbook `pb-1` v1 · guidance based on recent activity');
    expect(footerLine('multiplier', 'pb-1', 1)).toBe('Multiplier · playbook `pb-1` v1 · runs only with your consent');
  });
});
