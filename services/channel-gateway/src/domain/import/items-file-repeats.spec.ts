import { encode } from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { mapOrders } from './map-orders';
import { toSubmission } from './submission';
import { planSync } from '../sync/order-sync.policy';

// A Taobao 宝贝报表 may hold two rows identical in every column: the buyer bought the same item twice,
// as two sub-orders. They are two lines; the quantities add up to the 订单报表's 宝贝总数量 and the
// order's total to what the buyer paid.

const registry = new ProfileRegistry();
const ID = '4012000000000000077';
const ORDERS = (paid: string, totalQuantity: string | null) =>
  encode(
    [
      `订单编号,买家会员名,买家应付货款,买家应付邮费,买家实际支付金额,订单状态,收货人姓名,收货地址 ,联系手机,订单创建时间,订单付款时间 ,店铺名称,退款金额${totalQuantity === null ? '' : ',宝贝总数量'}`,
      `"=""${ID}""",tb_买家,256.00,0.00,${paid},买家已付款，等待卖家发货,张三,浙江省 杭州市 西湖区 文三路 478号,13812345678,2025-11-20 10:00:00,2025-11-20 10:01:00,茶叶旗舰店,0.00${totalQuantity === null ? '' : `,${totalQuantity}`}`,
    ].join('\r\n'),
    'gbk',
  );
const ITEM = `"=""${ID}""",明前龙井 250g,128.00,1,,净含量:250g,,,买家已付款，等待卖家发货,TEA-LJ-250`;
const ITEMS = (...rows: string[]) => encode(['订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码', ...rows].join('\r\n'), 'gbk');

async function map(orders: Buffer, items: Buffer) {
  const o = await readTable(orders, 'ExportOrderList.csv');
  const i = await readTable(items, 'ExportOrderDetailList.csv');
  return mapOrders(registry.get('taobao-classic'), o.table, i.table);
}

describe('identical 宝贝报表 rows', () => {
  it('are two sub-order lines: no quantity lost, quantities = 宝贝总数量, grand total = 买家实际支付金额', async () => {
    const r = await map(ORDERS('256.00', '2'), ITEMS(ITEM, ITEM));
    expect(r.rejected).toEqual([]);
    const d = r.drafts[0];
    expect(d.lines.map((l) => [l.lineId, l.sku, l.quantity, l.unitPrice])).toEqual([
      [`${ID}-1`, 'TEA-LJ-250', 1, 12800],
      [`${ID}-2`, 'TEA-LJ-250', 1, 12800],
    ]);
    expect(d.money).toMatchObject({ goods: 25600, paid: 25600, orderDiscount: 0 });
    const s = toSubmission(d);
    expect(s.lines.reduce((n, l) => n + l.unitPrice * l.quantity, 0) + s.shippingFee - s.orderDiscount).toBe(25600);
  });

  it('with a shop discount the second unit is still there (not absorbed into a bigger discount)', async () => {
    const d = (await map(ORDERS('230.00', '2'), ITEMS(ITEM, ITEM))).drafts[0];
    expect(d.lines.reduce((n, l) => n + l.quantity, 0)).toBe(2);
    expect(d.money).toMatchObject({ goods: 25600, paid: 23000, orderDiscount: 2600 });
  });

  it('are two lines also in an 订单报表 without 宝贝总数量 (the payment covers both: nothing to check)', async () => {
    const r = await map(ORDERS('256.00', null), ITEMS(ITEM, ITEM));
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0].lines.map((l) => l.quantity)).toEqual([1, 1]);
    expect(r.drafts[0].unconfirmedRepeatRows).toBeUndefined();
    expect(planSync(r.drafts[0], new Set()).map((a) => a.step)).toEqual(['placed', 'paid']);
    // A shop discount smaller than the repeated row's value: the buyer paid for the second unit too.
    expect((await map(ORDERS('230.00', null), ITEMS(ITEM, ITEM))).drafts[0].unconfirmedRepeatRows).toBeUndefined();
  });

  it('without 宝贝总数量 and paid for one unit: both lines kept, the order held for a person naming the repeated row (never shipped twice unchecked)', async () => {
    const r = await map(ORDERS('128.00', null), ITEMS(ITEM, ITEM));
    expect(r.rejected).toEqual([]);
    const d = r.drafts[0];
    expect(d.lines.map((l) => l.quantity)).toEqual([1, 1]);
    expect(d.unconfirmedRepeatRows).toEqual([3]);
    const actions = planSync(d, new Set());
    expect(actions.map((a) => a.step)).toEqual(['placed', 'held', 'paid']);
    const held = actions.find((a) => a.step === 'held');
    expect(held && 'reason' in held ? held.reason : '').toMatch(/宝贝报表第 3 行.*item rows 3 repeat/s);
    // Once held (and released by a person), a later import of the same file does not hold it again.
    expect(planSync(d, new Set(['placed', 'held', 'paid']))).toEqual([]);
  });

  it('a row repeated by a doubled export (宝贝总数量 says 1) is dropped, not shipped twice', async () => {
    const r = await map(ORDERS('128.00', '1'), ITEMS(ITEM, ITEM));
    expect(r.rejected).toEqual([]);
    expect(r.drafts[0].lines.map((l) => l.quantity)).toEqual([1]);
    expect(r.drafts[0].money).toMatchObject({ goods: 12800, paid: 12800, orderDiscount: 0 });
  });

  it('lines that do not add up to 宝贝总数量 (an item row missing) are refused naming the column, not placed short', async () => {
    const r = await map(ORDERS('256.00', '3'), ITEMS(ITEM, ITEM));
    expect(r.drafts).toEqual([]);
    expect(r.rejected[0]).toMatchObject({ channelOrderId: ID, rowNumbers: [2], itemRowNumbers: [2, 3] });
    expect(r.rejected[0].reasons).toEqual([expect.objectContaining({ code: 'TOTAL_MISMATCH', column: '宝贝总数量', en: expect.stringContaining('add up to 2, not') })]);
  });
});

describe('the export\'s 店铺名称 and the configured shops (CHANNEL_IMPORT_SHOPS)', () => {
  it('a known shop name places the order under its shop id; without the setting the name stays the id', async () => {
    const o = await readTable(ORDERS('256.00', '2'), 'ExportOrderList.csv');
    const i = await readTable(ITEMS(ITEM, ITEM), 'ExportOrderDetailList.csv');
    const shopIdOf = (name: string) => (name === '茶叶旗舰店' ? 'tmall-flagship' : undefined);
    expect(mapOrders(registry.get('taobao-classic'), o.table, i.table, { shopIdOf }).drafts[0].shopId).toBe('tmall-flagship');
    expect(mapOrders(registry.get('taobao-classic'), o.table, i.table).drafts[0].shopId).toBe('茶叶旗舰店');
    // A rejected order keeps its shop too (quarantine rows are shown per shop).
    const bad = await readTable(ORDERS('999.00', '2'), 'ExportOrderList.csv');
    const rejected = mapOrders(registry.get('taobao-classic'), bad.table, i.table, { shopIdOf }).rejected;
    expect(rejected.map((r) => r.shopId)).toEqual(['tmall-flagship']);
  });
});
