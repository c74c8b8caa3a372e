/**
 * The two rules every schema shares (domain/model/common.ts): timestamps and text. Routes take them from the schemas,
 * so these cases hold for every field that carries a timestamp or a string.
 */
import { z } from 'zod';
import { isTimestamp, text, textProblem, timestampSchema, TIME_ZONES, timeZoneSchema } from '../../domain/model/common';
import { playbookInputSchema } from '../../domain/model/playbook';
import { signalSchema } from '../../domain/model/signal';
import { snoozeInputSchema } from '../../domain/model/preferences';
import { validateEvent } from '../../domain/model/ubi-event';

describe('the timestamp rule', () => {
  it.each([
    ['2025-01-31T09:30:00Z'],
    ['2000-01-01T00:00:00Z'],
    ['2100-12-31T23:59:59.999999999Z'],
    ['2024-02-29T12:00:00+05:30'],
    ['2024-06-01T00:00:00-14:00'],
    ['2024-06-01T00:00:00+14:00'],
  ])('when given %s, then it is a timestamp', (s) => {
    expect(isTimestamp(s)).toBe(true);
    expect(timestampSchema.safeParse(s).success).toBe(true);
  });

  it.each([
    ['0020-02-29T00:00Z', 'no seconds, year 20'],
    ['0663-05-03T23:00:55Z', 'year 663'],
    ['1999-12-31T23:59:59Z', 'before 2000'],
    ['2101-01-01T00:00:00Z', 'after 2100'],
    ['2024-01-01T00:00:00+17:19', 'offset past ±14:00 (PostgreSQL refuses past ±15:59)'],
    ['2024-01-01T00:00:00+14:01', 'offset just past +14:00'],
    ['2023-02-29T00:00:00Z', 'no 29 February in 2023'],
    ['2024-04-31T00:00:00Z', 'no 31 April'],
    ['2024-01-01 00:00:00Z', 'space for T'],
    ['2024-01-01T00:00:00', 'no offset'],
    ['2024-01-01T00:00:00z', 'lower-case z'],
    ['2024-01-01T00:00:00Z\u0000', 'trailing NUL'],
  ])('when given %s (%s), then it is refused', (s) => {
    expect(isTimestamp(s)).toBe(false);
    expect(timestampSchema.safeParse(s).success).toBe(false);
  });

  it('when the OpenAPI schema is generated, then it carries format date-time and the range as a pattern', () => {
    const js = z.toJSONSchema(timestampSchema) as { format?: string; pattern?: string };
    expect(js.format).toBe('date-time');
    expect(new RegExp(js.pattern as string).test('2025-01-31T09:30:00Z')).toBe(true);
    expect(new RegExp(js.pattern as string).test('0663-01-01T00:00:00Z')).toBe(false);
  });
});

describe('the text rule', () => {
  it('when a string holds NUL or a lone surrogate, then it is refused; a surrogate pair (an emoji) is fine', () => {
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('\ud800')).toMatch(/surrogate/);
    expect(textProblem('x\udc00y')).toMatch(/surrogate/);
    expect(textProblem('ok \ud83d\ude00')).toBeNull();
    expect(text().max(10).safeParse('a\u0000').success).toBe(false);
    expect(text().max(10).safeParse('\udfff').success).toBe(false);
    expect(text().max(10).safeParse('ünïcødé').success).toBe(true);
  });

  it('when a field has its own alphabet, then NUL and lone surrogates are still refused', () => {
    const permissive = text(/^.*$/s, 'anything');
    expect(permissive.safeParse('a\u0000').success).toBe(false);
    expect(permissive.safeParse('a\ud800').success).toBe(false);
    expect(permissive.safeParse('a').success).toBe(true);
  });

  it('when NUL is nested in a playbook template or a signal payload value, then the field is named', () => {
    const playbook = {
      name: 'n',
      category: 'c',
      description: 'with \u0000 inside',
      triggers: [{ kind: 'k' }],
      actions: [{ type: 'mentor', title: 't', body: 'b\u0000' }],
    };
    const r = playbookInputSchema.safeParse(playbook);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['description', 'actions.0.body']));

    const s = signalSchema.safeParse({ signal_id: 's1', source: 'ubi', kind: 'k', severity: 'low', occurred_at: '2025-01-01T00:00:00Z', payload: { note: 'x\u0000' } });
    expect(s.error?.issues.map((i) => i.path.join('.'))).toEqual(['payload.note']);
  });

  it('when an event property holds NUL or an event timestamp is out of range, then the event is rejected naming the field', () => {
    const now = Date.parse('2025-06-01T00:00:00Z');
    const event = { event_id: 'e1', tenant_id: 't1', actor_id: 'a1', actor_type: 'human', event_type: 'pr_merged', occurred_at: '2025-05-31T00:00:00Z', source: 'gh' };
    expect(validateEvent({ ...event, properties: { 'ke\u0000y': 1 } }, 't1', now)).toMatchObject({ ok: false, reason: 'invalid_text', field: 'properties[0]' }); // a key the text rule refuses is named by position, never echoed
    expect(validateEvent({ ...event, properties: { lines: 'a\ud800' } }, 't1', now)).toMatchObject({ ok: false, reason: 'invalid_text', field: 'properties.lines' });
    expect(validateEvent({ ...event, occurred_at: '2025-05-31T00:00:00+17:19' }, 't1', now)).toMatchObject({ ok: false, field: 'occurred_at' });
  });
});

describe('constraints the document can carry', () => {
  it('when a snooze gives both or neither of duration_minutes and until, then it is refused; the schema says so with oneOf', () => {
    expect(snoozeInputSchema.safeParse({ duration_minutes: 5, until: '2030-01-01T00:00:00Z' }).success).toBe(false);
    expect(snoozeInputSchema.safeParse({}).success).toBe(false);
    expect(snoozeInputSchema.safeParse({ duration_minutes: 5 }).success).toBe(true);
    expect(snoozeInputSchema.safeParse({ until: '2030-01-01T00:00:00Z' }).success).toBe(true);
    expect((z.toJSONSchema(snoozeInputSchema) as { oneOf: unknown }).oneOf).toEqual([{ required: ['duration_minutes'] }, { required: ['until'] }]);
  });

  it('when a time zone is checked, then the enum the document lists is exactly what is accepted', () => {
    expect(TIME_ZONES).toEqual(expect.arrayContaining(['UTC', 'Europe/Berlin', 'Asia/Kolkata']));
    expect(timeZoneSchema.safeParse('Mars/Olympus_Mons').success).toBe(false);
    expect(TIME_ZONES.every((tz) => timeZoneSchema.safeParse(tz).success)).toBe(true);
    expect((z.toJSONSchema(timeZoneSchema) as { enum: string[] }).enum).toEqual(TIME_ZONES);
  });
});
