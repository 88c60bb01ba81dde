import { DomainError } from '@flowline/domain';
import { parse } from 'csv-parse/sync';
import { cleanCell, decodeText, yuanToFen as yuanTextToFen, type FileEncoding } from '@flowline/imports';
import type { EntryKind, SettlementEntry, SettlementPlatform } from '../domain/reconciliation';

/*
 * Platform settlement files -> SettlementEntry rows. Decoding (BOM, else strict UTF-8 on the first
 * 64 KB, else GB18030), Excel-guarded ids and yuan -> fen are channel-gateway's order-import
 * machinery, shared through @flowline/imports; the CSV layout here keeps '#' comment lines (Alipay's
 * header and footer) which the order exports do not have.
 */

export type { FileEncoding };

/** A BOM means UTF-8; bytes whose first 64 KB decode as strict UTF-8 are UTF-8; anything else is GB18030 (GBK's superset: Alipay's exports). */
export function decodeSettlementBytes(bytes: Buffer): { text: string; encoding: FileEncoding; bom: boolean } {
  return decodeText(bytes);
}

/** "128.00", "+128.00", "-0.77", "1,280.5", "¥12" -> fen (absolute value; the kind carries the direction); null when not an amount. */
export function yuanToFen(raw: string): number | null {
  const r = yuanTextToFen(raw.replace(/^\s*\+/, ''));
  return r.ok ? Math.abs(r.value) : null;
}

interface Format {
  /** Header names (the first matching one wins), by role. */
  columns: Record<string, string[]>;
  /** Entries of one row (a Douyin row carries its sale, fees and refund together). */
  entries(get: (role: string) => string): { kind: EntryKind; amount: string; item: string }[] | 'skip';
}

/**
 * The layouts, modelled on each platform's export (headers as the seller downloads them). A row
 * whose type the table does not know is skipped and counted (e.g. Alipay transfers, withdrawals).
 */
const FORMATS: Record<SettlementPlatform, Format> = {
  // 支付宝账务明细 (Taobao / Tmall): GB18030, '#' header and footer lines; one row per movement.
  alipay: {
    columns: { order: ['商户订单号'], at: ['发生时间'], income: ['收入金额（+元）', '收入金额(+元)'], expense: ['支出金额（-元）', '支出金额(-元)'], type: ['业务类型'] },
    entries: (get) => {
      const type = get('type');
      if (['交易付款', '在线支付', '交易收款'].includes(type)) return [{ kind: 'sale', amount: get('income'), item: type }];
      if (['交易退款', '退款'].includes(type)) return [{ kind: 'refund', amount: get('expense'), item: type }];
      if (['软件服务费', '服务费', '技术服务费', '佣金'].includes(type)) return [{ kind: 'fee', amount: get('expense'), item: type }];
      return 'skip';
    },
  },
  // 京东结算单明细: UTF-8 with BOM; signed amounts, one row per fee item.
  jd: {
    columns: { order: ['订单编号'], at: ['结算时间'], amount: ['金额(元)', '金额（元）', '金额'], type: ['费用项'] },
    entries: (get) => {
      const type = get('type');
      if (type === '货款') return [{ kind: 'sale', amount: get('amount'), item: type }];
      if (['售后退款', '退款'].includes(type)) return [{ kind: 'refund', amount: get('amount'), item: type }];
      if (['佣金', '平台使用费', '技术服务费'].includes(type)) return [{ kind: 'fee', amount: get('amount'), item: type }];
      return 'skip';
    },
  },
  // 拼多多货款明细: UTF-8 without BOM; income and expense columns.
  pdd: {
    columns: { order: ['商户订单号', '订单号'], at: ['发生时间'], income: ['收入金额（元）', '收入金额(元)'], expense: ['支出金额（元）', '支出金额(元)'], type: ['账务类型'] },
    entries: (get) => {
      const type = get('type');
      if (type === '交易收入') return [{ kind: 'sale', amount: get('income'), item: type }];
      if (['退款', '售后退款'].includes(type)) return [{ kind: 'refund', amount: get('expense'), item: type }];
      if (type === '技术服务费') return [{ kind: 'fee', amount: get('expense'), item: type }];
      return 'skip';
    },
  },
  // 抖店结算账单: UTF-8 with BOM; one row per order, fees in their own columns.
  douyin: {
    columns: { order: ['订单号', '子订单号'], at: ['结算时间'], sale: ['订单实付应结(元)', '订单实付应结（元）'], service: ['平台服务费(元)', '平台服务费（元）'], commission: ['佣金(元)', '佣金（元）'], refund: ['退款金额(元)', '退款金额（元）'] },
    entries: (get) => [
      { kind: 'sale', amount: get('sale'), item: '订单实付应结' },
      { kind: 'fee', amount: get('service'), item: '平台服务费' },
      { kind: 'fee', amount: get('commission'), item: '佣金' },
      { kind: 'refund', amount: get('refund'), item: '退款金额' },
    ],
  },
};

export interface ParsedSettlementFile {
  platform: SettlementPlatform;
  encoding: FileEncoding;
  bom: boolean;
  entries: (SettlementEntry & { rowNumber: number })[];
  skippedRows: number;
}

/** Parses one settlement file; a row that cannot be read refuses the whole file (422 naming rows and columns). */
export function parseSettlementFile(platform: SettlementPlatform, bytes: Buffer, fileName = 'file'): ParsedSettlementFile {
  const format = FORMATS[platform];
  const { text, encoding, bom } = decodeSettlementBytes(bytes);
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, comment: '#', comment_no_infix: true, trim: true, relax_quotes: true }) as string[][];
  } catch (e) {
    throw new DomainError('SETTLEMENT_FILE_UNREADABLE', `${fileName}: not a CSV file: ${(e as Error).message}`, { file: fileName }, 'invalid');
  }
  const [header, ...rows] = records;
  if (!header) throw new DomainError('SETTLEMENT_FILE_EMPTY', `${fileName} has no header row`, { file: fileName }, 'invalid');
  const index: Record<string, number> = {};
  const missing: string[] = [];
  for (const [role, names] of Object.entries(format.columns)) {
    const i = header.findIndex((h) => names.includes(h.trim()));
    if (i < 0) missing.push(names[0]);
    index[role] = i;
  }
  if (missing.length) throw new DomainError('SETTLEMENT_COLUMNS_MISSING', `${fileName} (${platform}): missing column(s) ${missing.join(', ')}`, { file: fileName, columns: missing }, 'invalid');
  const entries: ParsedSettlementFile['entries'] = [];
  const errors: { row: number; column: string; value: string }[] = [];
  let skippedRows = 0;
  rows.forEach((cells, i) => {
    const rowNumber = i + 2;
    const get = (role: string) => (cells[index[role]] ?? '').trim();
    const out = format.entries(get);
    if (out === 'skip') {
      skippedRows++;
      return;
    }
    const channelOrderId = cleanCell(get('order'));
    if (!channelOrderId) errors.push({ row: rowNumber, column: format.columns.order[0], value: '' });
    for (const e of out) {
      const amount = yuanToFen(e.amount);
      if (amount === null) {
        errors.push({ row: rowNumber, column: e.item, value: e.amount });
        continue;
      }
      if (amount === 0) continue;
      entries.push({ platform, channelOrderId, kind: e.kind, amount, occurredAt: get('at'), item: e.item, rowNumber });
    }
  });
  if (errors.length) {
    throw new DomainError('SETTLEMENT_ROWS_INVALID', `${fileName}: ${errors.length} unreadable cell(s), e.g. row ${errors[0].row} ${errors[0].column} "${errors[0].value}"`, { file: fileName, errors: errors.slice(0, 50) }, 'invalid');
  }
  return { platform, encoding, bom, entries, skippedRows };
}
