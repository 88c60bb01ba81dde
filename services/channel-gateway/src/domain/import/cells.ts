import { cleanCell, yuanToFen as sharedYuanToFen } from '@flowline/imports';

/**
 * Cell values as sellers' exports hold them, made plain. Pure: no I/O, no clock.
 * `cleanCell` (Excel-guarded ids: `="..."`, apostrophe, tabs) and `yuanToFen` (exact yuan text ->
 * fen) are shared with analytics' settlement reader, from @flowline/imports.
 */
export { cleanCell } from '@flowline/imports';

/**
 * Yuan text -> integer fen (@flowline/imports' reader: `¥` / `￥`, `CNY`, thousands separators), with
 * the unit written after the number as Chinese back offices do (`128.00元`, `128.00 元`) accepted too.
 * A refusal keeps the cell as written.
 */
export function yuanToFen(text: string): Read<number> {
  const r = sharedYuanToFen(text.replace(/(\d)\s*元\s*$/, '$1'));
  return r.ok ? r : { ok: false, reason: { code: 'BAD_AMOUNT', detail: text } };
}

/**
 * Header names vary by a space, a bracket style or a letter case between exports of one platform
 * (`商品总价(元)`, `商品总价（元）`, `商品总价 (元)`): compared after this normalisation.
 */
export function normalizeHeader(name: string): string {
  return cleanCell(name)
    .replace(/[\s\u3000]+/g, '')
    .replace(/[（【[]/g, '(')
    .replace(/[）】\]]/g, ')')
    .replace(/：/g, ':')
    .toLowerCase();
}

/** Outcome of reading one cell: a value, or a reason it could not be read. */
export type Read<T> = { ok: true; value: T } | { ok: false; reason: CellProblem };

/** Why a cell was refused; `detail` is the cell text. */
export interface CellProblem {
  code: 'BAD_AMOUNT' | 'BAD_QUANTITY' | 'BAD_TIME';
  detail: string;
}

const ok = <T>(value: T): Read<T> => ({ ok: true, value });
const bad = <T>(code: CellProblem['code'], detail: string): Read<T> => ({ ok: false, reason: { code, detail } });

/** Integer fen text (Douyin's API and some exports): digits only. */
export function fenText(text: string): Read<number> {
  const s = text.replace(/[,\s]/g, '');
  if (s === '') return ok(0);
  return /^-?\d{1,14}$/.test(s) ? ok(Number(s)) : bad('BAD_AMOUNT', text);
}

/** A positive whole quantity ("2", "2.0" from Excel; not "1.5"). */
export function quantity(text: string): Read<number> {
  const m = /^(\d{1,6})(?:\.0+)?$/.exec(text.replace(/\s/g, ''));
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? ok(n) : bad('BAD_QUANTITY', text);
}

/**
 * A platform time to an ISO instant. Times without a zone are Beijing time (UTC+8), as every
 * Chinese platform exports them: `2025-11-25 15:59:00`, `2025/11/25 15:59`, `2025-11-25T15:59:00`.
 * With a zone (Shopify: `2025-11-25 15:59:00 +0800`) the zone is used. Empty -> null.
 */
export function platformTime(text: string): Read<string | null> {
  const s = text.trim();
  if (s === '') return ok(null);
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return bad('BAD_TIME', text);
  const pad = (v: string | undefined, d = '00') => (v ?? d).padStart(2, '0');
  let zone = m[7] ?? '+08:00';
  if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const iso = `${m[1]}-${pad(m[2])}-${pad(m[3])}T${pad(m[4])}:${pad(m[5])}:${pad(m[6])}${zone}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? bad('BAD_TIME', text) : ok(new Date(ms).toISOString());
}
