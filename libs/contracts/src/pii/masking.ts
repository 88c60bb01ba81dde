/**
 * PII masking for views and integration events: the one set of rules every service uses, so an
 * order shows the same masked name and phone in order-intake, tracking and notifications.
 * Pure string functions, no runtime dependencies. Every function is idempotent: a value masked
 * upstream (it contains `*`) comes out unchanged, so a consumer may mask what it received again.
 * A missing or blank value gives `''`.
 */

const MOBILE = /^1\d{10}$/;

/**
 * Keeps the first character (the surname, or an initial) and stars the rest, one star per
 * character: 张 -> 张*, 张三 -> 张*, 欧阳娜娜 -> 欧***, 爱新觉罗溥仪 -> 爱*****, Li Lei -> L*****.
 */
export function maskName(name: string | null | undefined): string {
  const chars = Array.from((name ?? '').trim());
  if (chars.length === 0) return '';
  return chars[0] + '*'.repeat(Math.max(1, chars.length - 1));
}

/**
 * - mobile (11 digits starting with 1): 13812345678 -> 138****5678;
 * - +86 / 0086 before a number: kept as `+86 `, the national number masked: +86 138 1234 5678 -> +86 138****5678;
 * - landline with an area code (leading 0; 010 and 02x are three digits, others four): the area
 *   code and the last four digits stay: 010-12345678 -> 010-****5678, 0755 1234567 -> 0755-***4567;
 * - anything else keeps its last four digits: 95588123 -> ****8123; four digits or fewer are all stars.
 */
export function maskPhone(phone: string | null | undefined): string {
  const raw = (phone ?? '').trim();
  if (raw === '') return '';
  if (raw.includes('*')) return raw;
  let digits = raw.replace(/\D/g, '');
  let country = '';
  if (raw.startsWith('+86') || (digits.startsWith('0086') && digits.length > 11)) {
    digits = digits.slice(raw.startsWith('+86') ? 2 : 4);
    country = '+86 ';
  } else if (digits.length === 13 && digits.startsWith('86') && MOBILE.test(digits.slice(2))) {
    digits = digits.slice(2);
    country = '+86 ';
  }
  if (MOBILE.test(digits)) return `${country}${digits.slice(0, 3)}****${digits.slice(7)}`;
  if (digits.startsWith('0') && digits.length >= 10) {
    const area = /^0[12]/.test(digits) ? 3 : 4;
    const local = digits.slice(area);
    return `${country}${digits.slice(0, area)}-${'*'.repeat(local.length - 4)}${local.slice(-4)}`;
  }
  if (digits.length <= 4) return country + '*'.repeat(digits.length);
  return `${country}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** zhang.san@example.com -> z***@example.com; something without a local part -> ***. */
export function maskEmail(email: string | null | undefined): string {
  const e = (email ?? '').trim();
  if (e === '') return '';
  // By structure, never skipped on a '*' (an address holding one was published in clear); the
  // result of masking masks to itself, so masked input stays as it is.
  const at = e.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${e[0]}***${e.slice(at)}`;
}

/** Keeps the first two characters of the street (enough to tell a road), hides the rest and the detail: 文三路 90 号, 东部软件园 -> 文三****** */
export function maskStreet(street: string | null | undefined, detail?: string | null): string {
  const s = Array.from((street ?? '').trim());
  return `${s.slice(0, 2).join('')}****${detail ? '**' : ''}`;
}
