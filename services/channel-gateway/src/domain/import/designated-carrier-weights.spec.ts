import { describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { designatedCarrierOf, mapOrders, unitWeightGrams } from './map-orders';
import { toSubmission } from './submission';

/** Issue #12: the platform-designated carrier (JD 配送方式) and product weights (商品重量) reach the canonical order. */
const registry = new ProfileRegistry();
const HEADER = '订单号,订单状态,下单时间,付款确认时间,店铺名称,下单帐号,客户姓名,联系电话,客户地址,应付金额,运费金额,商品ID,商家SKU,商品名称,订购数量,京东价,配送方式,商品重量';
const row = (id: string, sku: string, qty: number, price: string, delivery: string, weight: string) =>
  `${id},等待出库,2026-12-01 10:00:00,2026-12-01 10:01:00,京东旗舰店,jd_buyer_1,张三,13800001111,北京 北京市 朝阳区 建国路88号,${price},0.00,${sku}-ID,${sku},${sku} 商品,${qty},${price},${delivery},${weight}`;

async function mapJd(...rows: string[]) {
  const t = await readTable(Buffer.from([HEADER, ...rows].join('\n'), 'utf8'), 'jd.csv');
  return mapOrders(registry.get('jd'), t.table);
}

describe('JD export: designated carrier and product weights (#12)', () => {
  it('配送方式 京东配送 -> designatedCarrier JD; 商品重量 in kg per unit -> unitWeightGrams on the line and the submission', async () => {
    const r = await mapJd(row('300077770001', 'TEA-LJ-250', 2, '128.00', '京东配送', '0.26'));
    expect(r.rejected).toEqual([]);
    const d = r.drafts[0];
    expect(d.designatedCarrier).toBe('JD');
    expect(d.lines[0]).toMatchObject({ sku: 'TEA-LJ-250', quantity: 2, unitWeightGrams: 260 });
    const sub = toSubmission(d);
    expect(sub.designatedCarrier).toBe('JD');
    expect(sub.lines[0].unitWeightGrams).toBe(260);
  });

  it('顺丰速运 -> SF; 商家自配送 and an empty or 0 weight designate / weigh nothing', async () => {
    const r = await mapJd(row('300077770002', 'TEA-A', 1, '10.00', '顺丰速运', '1.5'), row('300077770003', 'TEA-B', 1, '10.00', '商家自配送', '0'), row('300077770004', 'TEA-C', 1, '10.00', '', ''));
    expect(r.rejected).toEqual([]);
    expect(r.drafts.map((d) => [d.designatedCarrier, d.lines[0].unitWeightGrams])).toEqual([
      ['SF', 1500],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    const sub = toSubmission(r.drafts[1]);
    expect(sub).not.toHaveProperty('designatedCarrier');
    expect(sub.lines[0]).not.toHaveProperty('unitWeightGrams');
  });

  it('a weight that is not a number rejects the order naming the column (BAD_AMOUNT 商品重量)', async () => {
    const r = await mapJd(row('300077770005', 'TEA-D', 1, '10.00', '京东配送', '约半斤'));
    expect(r.drafts).toEqual([]);
    expect(r.rejected[0].reasons).toEqual([expect.objectContaining({ code: 'BAD_AMOUNT', column: '商品重量' })]);
  });

  it('weight cells: kg / g written in the cell win over the profile unit; a line weight is divided by the quantity', () => {
    expect(unitWeightGrams('0.26', 'kg', 'unit', 3)).toEqual({ ok: true, value: 260 });
    expect(unitWeightGrams('260克', 'kg', 'unit', 3)).toEqual({ ok: true, value: 260 });
    expect(unitWeightGrams('1.2 kg', 'g', 'line', 4)).toEqual({ ok: true, value: 300 });
    expect(unitWeightGrams('0.0004', 'kg', 'unit', 1)).toEqual({ ok: true, value: 1 });
    expect(unitWeightGrams('', 'kg', 'unit', 1)).toEqual({ ok: true, value: undefined });
    expect(unitWeightGrams('-1', 'kg', 'unit', 1).ok).toBe(false);
  });

  it('designation texts match exactly or after header normalisation; unlisted text is none', () => {
    const values = { 京东配送: 'JD', 顺丰速运: 'SF' };
    expect(designatedCarrierOf(values, '京东配送')).toBe('JD');
    expect(designatedCarrierOf(values, ' 顺丰速运 ')).toBe('SF');
    expect(designatedCarrierOf(values, '商家自配送')).toBeUndefined();
  });
});
