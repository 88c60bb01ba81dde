import type { QuietHours } from './notification.types';

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/**
 * One formatter per time zone, made once: constructing an Intl.DateTimeFormat costs far more than
 * formatting with it (issue #10: it was built per customer message, the intake's costliest call).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  return f;
}

/** Wall-clock parts of an instant in a time zone. */
function localParts(instant: Date, timeZone: string): { y: number; mo: number; d: number; minutes: number } {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get('year'), mo: get('month'), d: get('day'), minutes: get('hour') * 60 + get('minute') };
}

/** Offset of the zone from UTC at an instant, in minutes (Asia/Shanghai: +480). */
function offsetMinutes(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.y, p.mo - 1, p.d, Math.floor(p.minutes / 60), p.minutes % 60);
  return Math.round((asUtc - Math.floor(instant.getTime() / 60_000) * 60_000) / 60_000);
}

/**
 * When a customer message may go out: `now` itself outside quiet hours, else the end of the
 * window (08:00 local by default) as an ISO instant. Pure: `now` comes in.
 */
export function releaseTime(nowIso: string, quiet: QuietHours): { held: boolean; at: string } {
  const now = new Date(nowIso);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const local = localParts(now, quiet.timeZone);
  const wraps = start > end; // 22:00-08:00 spans midnight
  const inside = wraps ? local.minutes >= start || local.minutes < end : local.minutes >= start && local.minutes < end;
  if (!inside) return { held: false, at: now.toISOString() };
  // The local date the window ends on: tomorrow when we are before midnight in a wrapping window.
  const dayShift = wraps && local.minutes >= start ? 1 : 0;
  const offset = offsetMinutes(now, quiet.timeZone);
  const endUtc = Date.UTC(local.y, local.mo - 1, local.d + dayShift, Math.floor(end / 60), end % 60) - offset * 60_000;
  return { held: true, at: new Date(endUtc).toISOString() };
}
