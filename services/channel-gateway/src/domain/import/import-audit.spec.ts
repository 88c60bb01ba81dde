import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { planSync } from '../sync/order-sync.policy';
import { yuanToFen } from './cells';
import { mapOrders, zeroFilledColumn } from './map-orders';

// Exports the import audit found merged, mis-read or shipped wrongly (fixtures written by
// test/fixtures/make-import-audit-fixtures.ts, in the platforms' encodings).

const F = join(__dirname, '../../../test/fixtures');
const registry = new ProfileRegistry();

async function map(profile: string, file: string, items?: string) {
  const t = await readTable(readFileSync(join(F, file)), file);
  const i = items ? await readTable(readFileSync(join(F, items)), items) : undefined;
  return mapOrders(registry.get(profile), t.table, i?.table);
}

const byId = <T extends { channelOrderId: string | null }>(list: T[], id: string) => list.find((x) => x.channelOrderId === id);

describe('Pinduoduo (one row per order): an order id on several rows', () => {
  it('an exact repeat or a row that only adds a 商家备注 is one order of one line; rows that differ in status or quantity are refused, never merged into more lines', async () => {
    const r = await map('pinduoduo', 'pinduoduo-repeated-order-rows.gb18030.csv');
    expect(r.stats.duplicateRows).toBe(1);
    const repeat = byId(r.drafts, '251128-1');
    expect(repeat?.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual([['TEA-LJ-250', 1, 12800]]);
    expect(repeat?.money).toMatchObject({ goods: 12800, paid: 12800, orderDiscount: 0 });
    const remark = byId(r.drafts, '251128-2');
    expect(remark?.lines).toHaveLength(1);
    expect(remark?.money).toMatchObject({ goods: 12800, paid: 12800, orderDiscount: 0 });
    expect(remark?.buyerMessage).toBe('已联系买家，周五发');
    expect(remark?.rowNumbers).toEqual([3, 7]);

    expect(r.drafts.map((d) => d.channelOrderId).sort()).toEqual(['251128-1', '251128-2']);
    const shipped = byId(r.rejected, '251128-3');
    expect(shipped?.rowNumbers).toEqual([4, 8]);
    expect(shipped?.reasons).toEqual([expect.objectContaining({ code: 'CONFLICTING_ROWS', column: '订单号', en: expect.stringMatching(/rows 4, 8.*订单状态, 快递单号, 快递公司/), zh: expect.stringContaining('第 4、8 行') })]);
    const quantity = byId(r.rejected, '251128-4');
    expect(quantity?.reasons[0]?.en).toMatch(/rows 5, 9\).*商品总价\(元\), 用户实付金额\(元\), 商品数量\(件\)/);
  });
});

describe('Taobao classic: ids Excel zero-filled, different orders on one id', () => {
  it('a file whose 19-digit ids are all zero-filled past the 15th digit (three orders on one id) is MANGLED_ID, nothing merged or dropped', async () => {
    const r = await map('taobao-classic', 'taobao-zeroed-ids-orders.utf8.csv', 'taobao-zeroed-ids-items.utf8.csv');
    expect(r.drafts).toEqual([]);
    const zeroed = byId(r.rejected, '4822000000000000000');
    expect(zeroed).toMatchObject({ rowNumbers: [2, 3, 4], itemRowNumbers: [2, 3, 4], reasons: [expect.objectContaining({ code: 'MANGLED_ID', column: '订单编号', zh: expect.stringContaining('第 15 位之后') })] });
  });

  it('two paid orders sharing a real id (different 订单创建时间 / 付款时间) are CONFLICTING_ROWS; the clean order beside them imports', async () => {
    // This file was part of the zero-filled one until the column rule: a real id beside a zeroed one
    // means the column is not Excel's (it zero-fills a whole column), so they are separate exports now.
    const r = await map('taobao-classic', 'taobao-shared-id-orders.utf8.csv', 'taobao-shared-id-items.utf8.csv');
    const shared = byId(r.rejected, '4824000000000003333');
    expect(shared?.rowNumbers).toEqual([2, 3]);
    expect(shared?.reasons[0]).toMatchObject({ code: 'CONFLICTING_ROWS', en: expect.stringMatching(/订单创建时间, 订单付款时间/) });
    // Its 128.00元 read as an amount.
    expect(r.drafts.map((d) => [d.channelOrderId, d.money.paid])).toEqual([['4824000000000004444', 12800]]);
  });

  it('a file mixing one zero-tailed id with real ones imports every order: Excel zero-fills a column, not one cell', () => {
    const headers = ['订单号', '订单状态', '订单成交时间', '用户实付金额(元)', '商家编码-SKU维度', '商品', '商品数量(件)', '商品总价(元)', '收货人', '手机', '省', '市', '区', '街道', '详细地址'];
    const row = (id: string) => [id, '待发货', '2026-12-05 10:03', '128.00', 'TEA-1', '龙井', '1', '128.00', '吴九', '13812345678', '浙江省', '杭州市', '西湖区', '文新街道', '1号'];
    const r = mapOrders(registry.get('pinduoduo'), { headers, rows: ['4822000000000000001', '400000000000000', '4822000000000000000'].map((id, i) => ({ rowNumber: i + 2, cells: row(id) })) });
    expect(r.rejected).toEqual([]);
    expect(r.drafts.map((d) => d.channelOrderId)).toEqual(['4822000000000000001', '400000000000000', '4822000000000000000']);
  });

  it('a column is zero-filled only when all its 16+ digit ids are, and two distinct ones remain or the one left has 3+ zeros past the 15th digit', () => {
    expect(zeroFilledColumn(['4822000000000000000'])).toBe(true);
    expect(zeroFilledColumn(['4822000000000000000', '4823000000000000000', '123'])).toBe(true);
    expect(zeroFilledColumn(['1234567890123450', '1234567890123460'])).toBe(true);
    // A lone 16-digit id ending in 0 (one in 10) or 17-digit one in 00 is as likely real.
    expect(zeroFilledColumn(['1234567890123450'])).toBe(false);
    expect(zeroFilledColumn(['12345678901234500'])).toBe(false);
    expect(zeroFilledColumn(['4822000000000000000', '4822000000000000001'])).toBe(false);
    expect(zeroFilledColumn(['400000000000000', ''])).toBe(false);
  });

  it('a Douyin order 6962123456789010000 (a real id ending in 0000) with one sub-order imports', async () => {
    const r = await map('douyin', 'douyin-id-ending-in-zeros.utf8.csv');
    expect(r.rejected).toEqual([]);
    expect(r.drafts.map((d) => [d.channelOrderId, d.lines.map((l) => l.lineId), d.money.paid])).toEqual([
      ['6962123456789010000', ['6962123456789010001'], 12800],
      ['6962123456789012345', ['6962123456789012346'], 5990],
    ]);
  });

  it('a two-item Tmall order whose sub-order id ends in 0000 imports (the line id column is not zero-filled)', async () => {
    const r = await map('taobao-current', 'tmall-current-sub-order-id-zeros.utf8-bom.csv');
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0]?.lines.map((l) => l.lineId)).toEqual(['3302123456789012346', '3302123456789010000']);
    expect(r.drafts[0]?.money).toMatchObject({ goods: 18790, paid: 18790, orderDiscount: 0 });
  });
});

describe('per-line states: a refunded or closed sub-order is never shipped with the rest', () => {
  it('Tmall 千牛 (taobao-current): one sub-order 退款成功, one to ship -> LINE_STATES_DIFFER', async () => {
    const r = await map('taobao-current', 'tmall-current-sub-order-refunded.utf8-bom.csv');
    expect(r.drafts).toEqual([]);
    expect(r.rejected[0]).toMatchObject({ channelOrderId: '3301000000000000010', reasons: [expect.objectContaining({ code: 'LINE_STATES_DIFFER', zh: expect.stringContaining('第 3 行 买家已付款，等待卖家发货/退款成功') })] });
  });

  it('Taobao classic: the 宝贝报表 shows one item 交易关闭 -> LINE_STATES_DIFFER (not a paid order with an after-sales refund that ships both items)', async () => {
    const r = await map('taobao-classic', 'taobao-classic-item-closed-orders.gbk.csv', 'taobao-classic-item-closed-items.gbk.csv');
    expect(r.drafts).toEqual([]);
    expect(r.rejected[0]).toMatchObject({ channelOrderId: '4891000000000000001', itemRowNumbers: [2, 3], reasons: [expect.objectContaining({ code: 'LINE_STATES_DIFFER', column: '订单状态', zh: expect.stringContaining('第 3 行 交易关闭') })] });
  });
});

describe('Douyin: 订单应付金额 per sub-order', () => {
  it('distinct sub-orders with their own amounts add up (no invented discount); rows that are not distinct sub-orders are refused as ambiguous', async () => {
    const r = await map('douyin', 'douyin-sub-order-amounts.utf8.csv');
    expect(byId(r.drafts, '6962000000000000001')?.money).toMatchObject({ goods: 18790, paid: 18790, orderDiscount: 0 });
    expect(byId(r.drafts, '6962000000000000002')?.money).toMatchObject({ goods: 25600, paid: 24600, orderDiscount: 1000, platformDiscount: 1000 });
    expect(byId(r.rejected, '6962000000000000003')?.reasons).toEqual([expect.objectContaining({ code: 'CONFLICTING_ROWS', column: '订单应付金额', en: expect.stringContaining('ambiguous') })]);
    // A planned payment of what the buyer paid, not of the first row.
    const d = byId(r.drafts, '6962000000000000001');
    expect(d && planSync(d, new Set()).find((a) => a.step === 'paid')).toMatchObject({ amount: 18790 });
  });

  it('two sub-orders of one price each with its own 商家优惠 10.00 (each row 118.00): paid and every discount summed per row, 236.00 paid, 20.00 off', async () => {
    const r = await map('douyin', 'douyin-sub-order-amounts.utf8.csv');
    expect(byId(r.drafts, '6962000000000000004')?.money).toMatchObject({ goods: 25600, paid: 23600, shopDiscount: 2000, platformDiscount: 0, orderDiscount: 2000 });
  });

  it('a blank 订单应付金额 on a later sub-order row: the filled row stands for the order when it adds up; otherwise refused naming the blank row, never CONFLICTING_ROWS', async () => {
    const r = await map('douyin', 'douyin-sub-order-amounts.utf8.csv');
    expect(byId(r.drafts, '6962000000000000005')?.money).toMatchObject({ goods: 18790, paid: 17790, shopDiscount: 1000, orderDiscount: 1000 });
    const unknown = byId(r.rejected, '6962000000000000006');
    expect(unknown?.reasons).toEqual([expect.objectContaining({ code: 'MISSING_FIELD', column: '订单应付金额', en: expect.stringMatching(/empty on rows 12 .*rows 11 do not add up/), zh: expect.stringContaining('第 12 行') })]);
  });

  it('an older export writing the order\'s amounts unchanged on every sub-order row is read once (the summed reading does not add up)', async () => {
    const r = await map('douyin', 'douyin.utf8.csv');
    expect(byId(r.drafts, '6931234567890123456')?.money).toMatchObject({ goods: 18790, paid: 17790, platformDiscount: 500, shopDiscount: 500, orderDiscount: 1000 });
  });

  it('an export with 商品金额 and no 商品单价: unit price = 商品金额 / 商品数量', async () => {
    const r = await map('douyin', 'douyin-line-total.utf8.csv');
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0]?.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual([['TEA-LJ-250', 2, 12800]]);
  });
});

describe('Tmall 千牛 (taobao-current): 买家实付金额 per sub-order', () => {
  const qianniu = async () => (await readTable(readFileSync(join(F, 'tmall-current-per-sub-order-paid.utf8-bom.csv')), 'qianniu.csv')).table;

  it('distinct sub-orders that differ only in their amounts are lines with their own amounts, summed (not CONFLICTING_ROWS)', async () => {
    const r = mapOrders(registry.get('taobao-current'), await qianniu());
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0]?.money).toMatchObject({ goods: 18790, paid: 18790, orderDiscount: 0 });
  });

  it('still refused: the same sub-order id on two rows that differ, or rows that differ in an order-level field (订单创建时间)', async () => {
    const t = await qianniu();
    const edited = (column: string, value: string) => {
      const copy = structuredClone(t);
      const row = copy.rows[1];
      if (row) row.cells[t.headers.indexOf(column)] = value;
      return copy;
    };
    const sameLine = edited('子订单编号', t.rows[0]?.cells[t.headers.indexOf('子订单编号')] ?? '');
    expect(mapOrders(registry.get('taobao-current'), sameLine).rejected[0]?.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'CONFLICTING_ROWS', column: '子订单编号' })]));
    const otherTime = edited('订单创建时间', '2025-12-02 09:00:00');
    expect(mapOrders(registry.get('taobao-current'), otherTime).rejected[0]?.reasons).toEqual([expect.objectContaining({ code: 'CONFLICTING_ROWS', column: '订单创建时间' })]);
  });
});

describe('JD exports', () => {
  it('锁定 is an order on hold for a person, never a refund of a paid order', async () => {
    const r = await map('jd', 'jd-locked.gbk.csv');
    const d = r.drafts[0];
    expect(d?.state).toBe('on_hold');
    const plan = d ? planSync(d, new Set()) : [];
    expect(plan.map((a) => a.step)).toEqual(['placed', 'held', 'paid']);
    expect(plan.find((a) => a.step === 'held')).toMatchObject({ reason: expect.stringContaining('锁定') });
    // Known and paid: only the hold.
    expect(d ? planSync(d, new Set(['placed', 'paid'])).map((a) => a.step) : []).toEqual(['held']);
  });

  it('an export with 货号 and no 商家SKU takes 货号 as the SKU', async () => {
    const r = await map('jd', 'jd-huohao.gbk.csv');
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0]?.lines.map((l) => l.sku)).toEqual(['TEA-LJ-250']);
  });
});

describe('amounts', () => {
  it('yuan written with its unit after the number (128.00元, 1,280.5 元) reads like ¥ and thousands separators; 元 alone or a bad number is still refused as written', () => {
    expect(['128.00元', '1,280.5 元', '¥12元', '0.00元'].map((t) => yuanToFen(t))).toEqual([12800, 128050, 1200, 0].map((value) => ({ ok: true, value })));
    expect(yuanToFen('12.345元')).toEqual({ ok: false, reason: { code: 'BAD_AMOUNT', detail: '12.345元' } });
    expect(yuanToFen('元').ok).toBe(false);
  });
});
