import { isInQuietHours, localMinuteOfDay } from '../../domain/quiet-hours';
import type { QuietHours } from '../../domain/model/policy';

const night = (timezone: string): QuietHours => ({ start: '22:00', end: '07:00', timezone });
const at = (iso: string): Date => new Date(iso);

describe('localMinuteOfDay', () => {
  it('when it is midnight UTC, then the minute is 0 and never 1440', () => {
    expect(localMinuteOfDay(at('2024-01-15T00:00:00Z'), 'UTC')).toBe(0);
    expect(localMinuteOfDay(at('2024-01-15T00:05:00Z'), 'UTC')).toBe(5);
  });

  it('when the zone has a half-hour offset, then the local minute includes it', () => {
    // Asia/Kolkata is UTC+05:30 all year.
    expect(localMinuteOfDay(at('2024-01-15T16:30:00Z'), 'Asia/Kolkata')).toBe(22 * 60);
    expect(localMinuteOfDay(at('2024-01-15T20:45:00Z'), 'Asia/Kolkata')).toBe(2 * 60 + 15);
  });

  it('when the runtime prints hour "24" for midnight, then it is read as hour 0', () => {
    // Older ICU builds ignore hourCycle h23 at midnight; simulate one for a zone not yet cached.
    const spy = jest.spyOn(Intl, 'DateTimeFormat').mockImplementation(
      () =>
        ({
          formatToParts: () => [
            { type: 'hour', value: '24' },
            { type: 'literal', value: ':' },
            { type: 'minute', value: '07' },
          ],
        }) as unknown as Intl.DateTimeFormat,
    );
    try {
      expect(localMinuteOfDay(at('2024-01-15T11:07:00Z'), 'Pacific/Auckland')).toBe(7);
    } finally {
      spy.mockRestore();
    }
  });

  it('when Europe/Berlin springs forward, then the local clock jumps from 01:59 to 03:00', () => {
    expect(localMinuteOfDay(at('2024-03-31T00:59:00Z'), 'Europe/Berlin')).toBe(60 + 59);
    expect(localMinuteOfDay(at('2024-03-31T01:00:00Z'), 'Europe/Berlin')).toBe(3 * 60);
  });

  it('when Europe/Berlin falls back, then two instants an hour apart read the same local minute', () => {
    expect(localMinuteOfDay(at('2024-10-27T00:30:00Z'), 'Europe/Berlin')).toBe(2 * 60 + 30);
    expect(localMinuteOfDay(at('2024-10-27T01:30:00Z'), 'Europe/Berlin')).toBe(2 * 60 + 30);
  });
});

describe('isInQuietHours', () => {
  it('when there are no quiet hours, then it is never quiet', () => {
    expect(isInQuietHours(at('2024-01-15T23:00:00Z'), null)).toBe(false);
    expect(isInQuietHours(at('2024-01-15T23:00:00Z'), null, 'UTC')).toBe(false);
  });

  it('when start equals end, then the window is empty rather than all day', () => {
    const qh: QuietHours = { start: '09:00', end: '09:00', timezone: 'UTC' };
    expect(isInQuietHours(at('2024-01-15T09:00:00Z'), qh)).toBe(false);
    expect(isInQuietHours(at('2024-01-15T03:00:00Z'), qh)).toBe(false);
  });

  it('when the window crosses midnight in UTC, then start is inclusive and end exclusive', () => {
    const qh = night('UTC');
    expect(isInQuietHours(at('2024-01-15T21:59:59Z'), qh)).toBe(false);
    expect(isInQuietHours(at('2024-01-15T22:00:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-01-16T00:00:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-01-16T06:59:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-01-16T07:00:00Z'), qh)).toBe(false);
    expect(isInQuietHours(at('2024-01-16T12:00:00Z'), qh)).toBe(false);
  });

  it('when the tenant is in America/New_York in winter, then 22:00-07:00 is 03:00-12:00 UTC', () => {
    const qh = night('America/New_York');
    expect(isInQuietHours(at('2024-01-15T02:59:00Z'), qh)).toBe(false); // 21:59 EST
    expect(isInQuietHours(at('2024-01-15T03:00:00Z'), qh)).toBe(true); // 22:00 EST
    expect(isInQuietHours(at('2024-01-15T11:59:00Z'), qh)).toBe(true); // 06:59 EST
    expect(isInQuietHours(at('2024-01-15T12:00:00Z'), qh)).toBe(false); // 07:00 EST
  });

  it('when the tenant is in Asia/Kolkata, then the half-hour offset moves the window to 16:30-01:30 UTC', () => {
    const qh = night('Asia/Kolkata');
    expect(isInQuietHours(at('2024-01-15T16:29:00Z'), qh)).toBe(false); // 21:59 IST
    expect(isInQuietHours(at('2024-01-15T16:30:00Z'), qh)).toBe(true); // 22:00 IST
    expect(isInQuietHours(at('2024-01-16T01:29:00Z'), qh)).toBe(true); // 06:59 IST
    expect(isInQuietHours(at('2024-01-16T01:30:00Z'), qh)).toBe(false); // 07:00 IST
  });

  it('when one instant is judged in three zones, then each answers by its own wall clock', () => {
    const instant = at('2024-01-15T03:30:00Z');
    expect(isInQuietHours(instant, night('UTC'))).toBe(true); // 03:30
    expect(isInQuietHours(instant, night('America/New_York'))).toBe(true); // 22:30 the day before
    expect(isInQuietHours(instant, night('Asia/Kolkata'))).toBe(false); // 09:00
  });

  it('when Europe/Berlin has just moved to summer time, then the end of the window follows the new offset', () => {
    const qh = night('Europe/Berlin');
    // 2024-03-31 is the spring-forward day: 04:59Z is 06:59 CEST, 05:30Z is 07:30 CEST (a fixed +01:00 would say 06:30).
    expect(isInQuietHours(at('2024-03-31T04:59:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-03-31T05:00:00Z'), qh)).toBe(false);
    expect(isInQuietHours(at('2024-03-31T05:30:00Z'), qh)).toBe(false);
    // The day before, still CET: 05:30Z is 06:30 local and quiet.
    expect(isInQuietHours(at('2024-03-30T05:30:00Z'), qh)).toBe(true);
  });

  it("when the actor has a time zone, then it overrides the tenant's", () => {
    const qh = night('UTC');
    const instant = at('2024-01-15T20:00:00Z'); // 20:00 UTC, 01:30 in Kolkata
    expect(isInQuietHours(instant, qh)).toBe(false);
    expect(isInQuietHours(instant, qh, null)).toBe(false);
    expect(isInQuietHours(instant, qh, 'Asia/Kolkata')).toBe(true);
    // And the other way round: 03:30 UTC is quiet for the tenant, but 09:00 for an actor in Kolkata.
    expect(isInQuietHours(at('2024-01-15T03:30:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-01-15T03:30:00Z'), qh, 'Asia/Kolkata')).toBe(false);
  });

  it('when the window is within one day, then times outside it are not quiet', () => {
    const qh: QuietHours = { start: '12:00', end: '13:30', timezone: 'UTC' };
    expect(isInQuietHours(at('2024-01-15T11:59:00Z'), qh)).toBe(false);
    expect(isInQuietHours(at('2024-01-15T12:00:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-01-15T13:29:00Z'), qh)).toBe(true);
    expect(isInQuietHours(at('2024-01-15T13:30:00Z'), qh)).toBe(false);
    expect(isInQuietHours(at('2024-01-15T23:00:00Z'), qh)).toBe(false);
  });
});
