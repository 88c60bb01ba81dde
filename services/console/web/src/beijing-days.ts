/**
 * Days as the business counts them: Beijing dates (Asia/Shanghai, UTC+8 all year, no daylight
 * saving), whatever the browser's own zone. The services count days in that zone (analytics'
 * ANALYTICS_TIMEZONE, tracking's placed-date filter) and the console shows every time in it, so a day
 * picked or computed on a screen is a Beijing date and the instant sent for it is its Beijing
 * midnight. Neither `toISOString().slice(0, 10)` (a UTC day: still yesterday before 08:00 in China) nor
 * the browser's local date (a laptop set to another zone) is. Plain functions, held by
 * services/console/src/beijing-days.spec.ts.
 */

const BEIJING_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** The Beijing date (YYYY-MM-DD) of an instant (milliseconds since the epoch, e.g. `Date.now()`). */
export function beijingDay(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant a Beijing date (YYYY-MM-DD) begins, as an ISO instant (UTC, `...Z`). */
export function beijingDayStart(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00+08:00`)).toISOString();
}

/** The date `n` days after `day` (before it when `n` is negative). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}
