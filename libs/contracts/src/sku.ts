/**
 * The one form of a SKU (a seller's 商家编码), the same in every service: what order-intake takes on
 * an order line, inventory must be able to stock, fulfillment to pack, analytics to forecast and a
 * channel import to pass on. Real codes carry Chinese, `/`, `#`, `*`, `+`, brackets and single
 * spaces (`A01/红色/XL`, `LJ250*2`, `TS01 白 XL`), so the form is wide: 1-64 characters after
 * NFKC (a fullwidth `Ａ０１` is `A01`), no control, format or private-use characters (a tab, a
 * zero-width space), no line breaks, no whitespace other than a plain space, and none at either end.
 */
export const SKU_MAX_LENGTH = 64;

const FORBIDDEN = /[\p{C}\p{Zl}\p{Zp}]|[^\S ]/u;

export const SKU_RULE = `1-${SKU_MAX_LENGTH} characters, no control characters, tabs or line breaks, no spaces at either end`;

/**
 * A SKU as every service stores and compares it: NFKC (fullwidth `Ａ０１` is `A01`, an ideographic
 * space a plain one), spaces at either end trimmed (a seller's code typed with a trailing space, as
 * platforms' APIs and exports pass it on). Non-strings pass through for the check to refuse.
 */
export function normalizeSku<T>(value: T): T | string {
  return typeof value === 'string' ? value.normalize('NFKC').trim() : value;
}

/** Why `value` (already normalised with {@link normalizeSku}) is not a SKU, or null when it is one. */
export function skuProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'is required';
  if (value.length > SKU_MAX_LENGTH) return `must be at most ${SKU_MAX_LENGTH} characters`;
  if (value !== value.trim()) return 'must not start or end with a space';
  if (FORBIDDEN.test(value)) return 'must not contain control characters, tabs or line breaks';
  return null;
}

export function isSku(value: unknown): value is string {
  return skuProblem(value) === null;
}
