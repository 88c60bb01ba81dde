/**
 * WeChat template / subscribe message field limits, by the field's key prefix (the key names the
 * type: `thing3`, `character_string1`, `phrase2`). Values beyond the limit are refused by WeChat
 * (errcode 47003), so they are cut here: at a grapheme boundary (never inside a character, an emoji
 * or a combining sequence) and ending with "…" so a reader sees the cut.
 */
const LIMITS: [prefix: string, max: number][] = [
  ['character_string', 32],
  ['thing', 20],
  ['phrase', 5],
  ['car_number', 8],
  ['name', 10],
  ['letter', 32],
  ['symbol', 5],
  ['number', 32],
];

export const ELLIPSIS = '…';

export function fieldLimit(key: string): number | undefined {
  return LIMITS.find(([prefix]) => key.startsWith(prefix))?.[1];
}

const segmenter = new Intl.Segmenter('zh-CN', { granularity: 'grapheme' });

/** Cuts `value` to at most `max` characters (graphemes), the last being "…" when anything was cut. */
export function truncateVisibly(value: string, max: number): string {
  const graphemes = Array.from(segmenter.segment(value), (s) => s.segment);
  if (graphemes.length <= max) return value;
  return graphemes.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
}

/** Applies each field's limit (fields without a known limit pass through). */
export function limitWechatFields(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    const max = fieldLimit(key);
    out[key] = max === undefined ? value : truncateVisibly(value, max);
  }
  return out;
}
