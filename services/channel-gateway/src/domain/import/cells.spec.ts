import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { cleanCell, normalizeHeader, platformTime, quantity, yuanToFen } from './cells';
import { detectEncoding, SNIFF_BYTES } from './encoding';

describe('cells', () => {
  it('turns yuan text into fen exactly, never through floats', () => {
    expect(yuanToFen('0.1')).toEqual({ ok: true, value: 10 });
    expect(yuanToFen('59.90')).toEqual({ ok: true, value: 5990 });
    expect(yuanToFen('¥1,280.05')).toEqual({ ok: true, value: 128005 });
    expect(yuanToFen('1.005')).toEqual({ ok: false, reason: { code: 'BAD_AMOUNT', detail: '1.005' } });
    // 0.1 + 0.2 in floats is 0.30000000000000004; summed as fen it stays 30.
    const a = yuanToFen('0.1');
    const b = yuanToFen('0.2');
    expect(a.ok && b.ok && a.value + b.value).toBe(30);
  });

  it('removes Excel guards (="...", apostrophe, tabs) and keeps ids above 2^53 as text', () => {
    expect(cleanCell('="4012345678901234567"')).toBe('4012345678901234567');
    expect(cleanCell("'3318459620112233445")).toBe('3318459620112233445');
    expect(cleanCell('\t6931234567890123456')).toBe('6931234567890123456');
    expect(Number(cleanCell('="4012345678901234567"')) > Number.MAX_SAFE_INTEGER).toBe(true);
  });

  it('compares headers across spaces, bracket styles and case', () => {
    expect(normalizeHeader('商品总价（元）')).toBe(normalizeHeader('商品总价 (元)'));
    expect(normalizeHeader('Lineitem SKU ')).toBe(normalizeHeader('lineitem sku'));
  });

  it('reads Beijing wall-clock times and zoned times as ISO instants', () => {
    expect(platformTime('2025-11-25 15:59:00')).toEqual({ ok: true, value: '2025-11-25T07:59:00.000Z' });
    expect(platformTime('2025/11/25 15:59')).toEqual({ ok: true, value: '2025-11-25T07:59:00.000Z' });
    expect(platformTime('2025-11-30 10:00:05 +0800')).toEqual({ ok: true, value: '2025-11-30T02:00:05.000Z' });
    expect(platformTime('2025-11-28 25:00').ok).toBe(false);
    expect(quantity('2.0')).toEqual({ ok: true, value: 2 });
    expect(quantity('0').ok).toBe(false);
  });
});

describe('encoding detection', () => {
  it('BOM -> UTF-8; strict UTF-8 -> UTF-8; otherwise GB18030 (GBK files included)', () => {
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toEqual({ encoding: 'utf-8', bom: true });
    expect(detectEncoding(Buffer.from('订单编号,金额', 'utf8'))).toEqual({ encoding: 'utf-8', bom: false });
    expect(detectEncoding(iconv.encode('订单编号,金额', 'gbk'))).toEqual({ encoding: 'gb18030', bom: false });
  });

  it('does not fail UTF-8 on a character cut at the 64 KB sniff boundary', () => {
    const text = 'a'.repeat(SNIFF_BYTES - 1) + '龙井';
    expect(detectEncoding(Buffer.from(text, 'utf8')).encoding).toBe('utf-8');
  });
});
