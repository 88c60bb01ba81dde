/**
 * Masked or encrypted personal data in platform exports. Platforms mask (`张*`, `1******6198`,
 * `沙洲街道****`) or encrypt (Douyin's `#...#`, `$...$`, `~...~` ciphertext placeholders, Taobao's
 * oaid-protected fields) the receiver's name, phone and address. Such a value is flagged, never
 * parsed as clear text: the recipient is resolved through the platform's decrypt API or the
 * waybill printed by oaid.
 */
export type PiiState = 'clear' | 'masked' | 'encrypted' | 'absent';

const CIPHERTEXT = /^(#[^#]+#|\$[^$]+\$|~[^~]+~|##.*|\$\$.*|~~.*)$/s;

export function piiState(value: string): PiiState {
  const v = value.trim();
  if (v === '') return 'absent';
  if (CIPHERTEXT.test(v)) return 'encrypted';
  if (/\*{1,}/.test(v)) return 'masked';
  return 'clear';
}
