/**
 * Quiet hours: a daily window, in a wall-clock time zone, during which no nudge is shown.
 * Pure and sandbox-safe: the current instant is passed in and Intl (not Node's tz handling) does the conversion.
 */
import type { QuietHours } from './model/policy';

/**
 * Formatters are costly to build and fully determined by the zone, so one per zone is kept. The cache is
 * deterministic, which keeps it safe inside the workflow sandbox.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // 'en-US' pins the Latin digits we parse; h23 asks for 00-23, though some ICU builds still print "24" at midnight.
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Minutes since local midnight (0-1439) of `now` on the wall clock of `timeZone`. */
export function localMinuteOfDay(now: Date, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(now)) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  // `% 24` folds the "24:05" some runtimes print for five past midnight back to 00:05.
  return (hour % 24) * 60 + minute;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/**
 * True when `now` falls inside the window: start inclusive, end exclusive, so 22:00-07:00 is quiet at 22:00 and
 * at 06:59 but not at 07:00. The actor's own zone wins over the tenant's, because quiet hours protect the
 * person's evening, wherever they are. start == end is an empty window, not a 24-hour one.
 */
export function isInQuietHours(now: Date, quietHours: QuietHours | null, actorTimeZone?: string | null): boolean {
  if (!quietHours) return false;
  const start = minutesOf(quietHours.start);
  const end = minutesOf(quietHours.end);
  if (start === end) return false;
  const minute = localMinuteOfDay(now, actorTimeZone || quietHours.timezone);
  // A window that crosses midnight is the union of [start, 24:00) and [00:00, end).
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}
