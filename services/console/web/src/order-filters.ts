/**
 * The Orders screen's search and filters, kept in the URL (`?mode=&q=&channel=&stage=&from=&to=`) so a
 * reload, a shared link or the back button shows the same list. Plain functions (no React), held by
 * services/console/src/order-filters.spec.ts.
 */

import { addDays, beijingDayStart } from './beijing-days';

export type SearchMode = 'auto' | 'order' | 'phoneTail' | 'sku';
export const SEARCH_MODES: readonly SearchMode[] = ['auto', 'order', 'phoneTail', 'sku'];

export interface OrderFilters {
  mode: SearchMode;
  /** The search text as typed (committed with Enter / the search button). */
  q: string;
  channel?: string;
  stage?: string;
  /** Placed on or after this day (YYYY-MM-DD, the user's time zone). */
  from?: string;
  /** Placed on or before this day (YYYY-MM-DD, inclusive). */
  to?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const validDay = (v: string | null): string | undefined => (v && DAY.test(v) && !Number.isNaN(new Date(`${v}T00:00:00`).getTime()) ? v : undefined);

/** The filters a URL names; unknown channels / stages and malformed days are dropped. */
export function filtersFromUrl(params: URLSearchParams, known: { channels: object; stages: object }): OrderFilters {
  const mode = params.get('mode');
  const pick = (name: string, of: object) => {
    const v = params.get(name);
    return v && Object.hasOwn(of, v) ? v : undefined;
  };
  const f: OrderFilters = { mode: SEARCH_MODES.includes(mode as SearchMode) ? (mode as SearchMode) : 'auto', q: params.get('q') ?? '' };
  const channel = pick('channel', known.channels);
  const stage = pick('stage', known.stages);
  const from = validDay(params.get('from'));
  const to = validDay(params.get('to'));
  return { ...f, ...(channel ? { channel } : {}), ...(stage ? { stage } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** The URL query for the filters: only what is set (`auto` mode and empty text are the default). */
export function filtersToUrl(f: OrderFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.mode !== 'auto') p.set('mode', f.mode);
  if (f.q.trim()) p.set('q', f.q.trim());
  for (const k of ['channel', 'stage', 'from', 'to'] as const) {
    const v = f[k];
    if (v) p.set(k, v);
  }
  return p;
}

/**
 * Tracking's `from` (placed at or after) and `to` (placed before) for the chosen days: from the start of
 * `from` to the start of the day after `to`, in Beijing time (beijing-days.ts), as ISO instants,
 * whatever the browser's own zone.
 */
export function placedRange(from: string | undefined, to: string | undefined): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  if (from) out.from = beijingDayStart(from);
  if (to) out.to = beijingDayStart(addDays(to, 1));
  return out;
}
