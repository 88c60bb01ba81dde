import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { planSync } from '../sync/order-sync.policy';
import { yuanToFen } from './cells';
import { mapOrders } from './map-orders';

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
  it('a 19-digit id whose digits past the 15th are all zeros is MANGLED_ID; two paid orders sharing a real id (different 订单创建时间 / 付款时间) are CONFLICTING_ROWS; nothing merged or dropped', async () => {
    const r = await map('taobao-classic', 'taobao-zeroed-ids-orders.utf8.csv', 'taobao-zeroed-ids-items.utf8.csv');
    const zeroed = byId(r.rejected, '4822000000000000000');
    expect(zeroed).toMatchObject({ rowNumbers: [2, 3, 4], itemRowNumbers: [2, 3, 4], reasons: [expect.objectContaining({ code: 'MANGLED_ID', column: '订单编号', zh: expect.stringContaining('第 15 位之后') })] });
    const shared = byId(r.rejected, '4824000000000003333');
    expect(shared?.rowNumbers).toEqual([5, 6]);
    expect(shared?.reasons[0]).toMatchObject({ code: 'CONFLICTING_ROWS', en: expect.stringMatching(/订单创建时间, 订单付款时间/) });
    // The clean order beside them imports, its 128.00元 read as an amount.
    expect(r.drafts.map((d) => [d.channelOrderId, d.money.paid])).toEqual([['4824000000000004444', 12800]]);
  });

  it('an id that merely contains zeros, or is shorter than 16 digits, is not taken for a mangled one', () => {
    const headers = ['订单号', '订单状态', '订单成交时间', '用户实付金额(元)', '商家编码-SKU维度', '商品', '商品数量(件)', '商品总价(元)', '收货人', '手机', '省', '市', '区', '街道', '详细地址'];
    const row = (id: string) => [id, '待发货', '2026-12-05 10:03', '128.00', 'TEA-1', '龙井', '1', '128.00', '吴九', '13812345678', '浙江省', '杭州市', '西湖区', '文新街道', '1号'];
    const r = mapOrders(registry.get('pinduoduo'), { headers, rows: ['4822000000000000001', '400000000000000', '4822000000000000000'].map((id, i) => ({ rowNumber: i + 2, cells: row(id) })) });
    expect(r.drafts.map((d) => d.channelOrderId)).toEqual(['4822000000000000001', '400000000000000']);
    expect(r.rejected.map((x) => [x.channelOrderId, x.reasons[0]?.code])).toEqual([['4822000000000000000', 'MANGLED_ID']]);
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

  it('an export with 商品金额 and no 商品单价: unit price = 商品金额 / 商品数量', async () => {
    const r = await map('douyin', 'douyin-line-total.utf8.csv');
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0]?.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual([['TEA-LJ-250', 2, 12800]]);
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
