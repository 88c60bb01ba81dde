/**
 * Cell values as sellers' exports hold them, made plain. Pure: no I/O, no clock.
 *
 * Platforms guard long ids against Excel in several ways: `="4012..."` (a formula that yields the
 * text), a leading apostrophe, a leading tab (Douyin), or a trailing tab. All of them are removed
 * here; ids are kept as strings whatever their length (Taobao's have 19 digits, above 2^53).
 */
export function cleanCell(raw: string | undefined | null): string {
  if (raw === undefined || raw === null) return '';
  let s = String(raw).replace(/^\uFEFF/, '');
  s = s.replace(/^[\t ]+|[\t ]+$/g, '');
  const guarded = /^="(.*)"$/s.exec(s);
  if (guarded) s = guarded[1];
  if (s.startsWith("'")) s = s.slice(1);
  return s.replace(/^[\t ]+|[\t ]+$/g, '');
}

/** Outcome of reading an amount cell: fen, or the cell text that is not an amount. */
export type AmountRead = { ok: true; value: number } | { ok: false; reason: { code: 'BAD_AMOUNT'; detail: string } };

/**
 * Yuan text to integer fen, exactly: the digits are read as text, never through a float
 * ("0.1" + "0.2" stays 30). Accepts `¥`/`￥`, thousands separators and a minus sign; refuses more
 * than two decimals. An empty cell is 0.
 */
export function yuanToFen(text: string): AmountRead {
  const s = text.replace(/[¥￥,\s]/g, '').replace(/^CNY/i, '');
  if (s === '' || s === '-') return { ok: true, value: 0 };
  const m = /^(-?)(\d{1,12})(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return { ok: false, reason: { code: 'BAD_AMOUNT', detail: text } };
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return { ok: true, value: m[1] === '-' ? -fen : fen };
}

