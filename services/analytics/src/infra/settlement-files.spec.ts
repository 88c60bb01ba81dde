import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeSettlementBytes, parseSettlementFile, yuanToFen } from './settlement-files';

const fixture = (name: string) => readFileSync(join(__dirname, '../../test/fixtures/settlements', name));
const brief = (es: { channelOrderId: string; kind: string; amount: number }[]) => es.map((e) => [e.channelOrderId, e.kind, e.amount]);

describe('settlement files in their platforms\' encodings', () => {
  it('reads the Alipay bill (GB18030, # header and footer lines), skipping transfers', () => {
    const f = parseSettlementFile('alipay', fixture('alipay-2026-06-10.csv'), 'alipay.csv');
    expect(f).toMatchObject({ encoding: 'gb18030', bom: false, skippedRows: 1 });
    expect(brief(f.entries)).toEqual([
      ['4100000000000000001', 'sale', 12800], ['4100000000000000001', 'fee', 77],
      ['4100000000000000003', 'sale', 10000], ['4100000000000000003', 'fee', 500],
      ['4100000000000000004', 'sale', 5000], ['4100000000000000004', 'fee', 30],
      ['4100000000000000005', 'sale', 8000], ['4100000000000000005', 'fee', 48], ['4100000000000000005', 'refund', 2000],
    ]);
    expect(f.entries[0]).toMatchObject({ occurredAt: '2026-06-10 10:00:01', item: '交易付款' });
  });

  it('reads the JD settlement (UTF-8 with BOM, signed amounts per fee item)', () => {
    const f = parseSettlementFile('jd', fixture('jd-2026-06-10.csv'));
    expect(f).toMatchObject({ encoding: 'utf-8', bom: true });
    expect(brief(f.entries)).toEqual([['300000000001', 'sale', 5990], ['300000000001', 'fee', 300], ['300000000002', 'refund', 1000]]);
  });

  it('reads the PDD bill (UTF-8 without BOM), skipping deposit movements', () => {
    const f = parseSettlementFile('pdd', fixture('pdd-2026-06-10.csv'));
    expect(f).toMatchObject({ encoding: 'utf-8', bom: false, skippedRows: 1 });
    expect(brief(f.entries)).toEqual([['260610-111111111', 'sale', 1990], ['260610-111111111', 'fee', 12]]);
  });

  it('reads the Douyin bill (one row per order, fees in columns, zero amounts dropped)', () => {
    const f = parseSettlementFile('douyin', fixture('douyin-2026-06-10.csv'));
    expect(brief(f.entries)).toEqual([
      ['6900000000000000001', 'sale', 8800], ['6900000000000000001', 'fee', 440],
      ['6900000000000000002', 'sale', 3000], ['6900000000000000002', 'fee', 150], ['6900000000000000002', 'fee', 300], ['6900000000000000002', 'refund', 3000],
    ]);
  });

  it('refuses a file without the platform\'s columns, or with an unreadable amount, naming them', () => {
    expect(() => parseSettlementFile('jd', Buffer.from('a,b\n1,2\n'))).toThrow(/订单编号/);
    const bad = Buffer.from('订单编号,费用项,金额(元),结算时间\n3001,货款,12.3.4,2026-06-10\n', 'utf8');
    expect(() => parseSettlementFile('jd', bad)).toThrow(/row 2 货款 "12.3.4"/);
  });

  it('decodes BOM as UTF-8, strict UTF-8 as UTF-8, anything else as GB18030', () => {
    expect(decodeSettlementBytes(Buffer.from('\uFEFF订单', 'utf8'))).toEqual({ text: '订单', encoding: 'utf-8', bom: true });
    expect(decodeSettlementBytes(Buffer.from('订单', 'utf8')).encoding).toBe('utf-8');
    expect(decodeSettlementBytes(iconv.encode('订单编号', 'gb18030'))).toEqual({ text: '订单编号', encoding: 'gb18030', bom: false });
  });

  it('converts yuan strings to integer fen without floating point', () => {
    expect(['128.00', '+0.77', '-1,280.5', '¥12', '0.1', ''].map(yuanToFen)).toEqual([12800, 77, 128050, 1200, 10, 0]);
    expect(yuanToFen('12.345')).toBeNull();
  });
});
