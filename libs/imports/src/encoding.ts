import iconv from 'iconv-lite';

/** Encodings a seller's export file comes in. */
export type FileEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';

/** How much of the file the strict UTF-8 check reads. */
export const SNIFF_BYTES = 64 * 1024;

/**
 * Which encoding a text export is in: a byte-order mark decides; else a strict UTF-8 decode of the
 * first 64 KB that succeeds means UTF-8; else GB18030 (a superset of GBK and GB2312, so GBK files
 * decode the same). No statistical guessing (chardet-style detectors misread small files).
 */
export function detectEncoding(bytes: Uint8Array): { encoding: FileEncoding; bom: boolean } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', bom: true };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', bom: true };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', bom: true };
  try {
    // stream: true leaves a multi-byte character cut at the 64 KB boundary pending instead of failing.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, SNIFF_BYTES), { stream: bytes.length > SNIFF_BYTES });
    return { encoding: 'utf-8', bom: false };
  } catch {
    return { encoding: 'gb18030', bom: false };
  }
}

/** Decodes a text export in the encoding {@link detectEncoding} finds (a BOM is removed). */
export function decodeText(bytes: Buffer): { text: string; encoding: FileEncoding; bom: boolean } {
  const { encoding, bom } = detectEncoding(bytes);
  return { text: iconv.decode(bytes, encoding, { stripBOM: true }), encoding, bom };
}
