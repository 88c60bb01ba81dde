import { encode } from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { mapOrders } from '../import/map-orders';
import { planSync } from './order-sync.policy';

// A Taobao / Tmall 订单报表 row of an order refunded after it shipped (交易关闭 with 退款金额 = the
// paid amount and a 发货时间 / 物流单号, or 退款状态 退款成功): recorded as refunded after a shipment
// made outside Flowline, never a fresh paid order that joins the shipping queue.

const registry = new ProfileRegistry();
const HEADER = '订单编号,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,收货人姓名,收货地址 ,联系手机,订单创建时间,订单付款时间 ,物流单号 ,物流公司,宝贝总数量,店铺名称,退款金额,发货时间,退款状态';
const ID = '4012000000000000091';
const ITEMS = encode(['订单编号,标题,价格,购买数量,商家编码', `"=""${ID}""",明前龙井 250g,128.00,2,TEA-LJ-250`].join('\r\n'), 'gbk');
const row = (o: { status: string; refund?: string; trackingNo?: string; carrier?: string; shippedAt?: string; refundStatus?: string }) =>
  [
    `"=""${ID}"""`,
    'tb_买家',
    '256.00',
    '0.00',
    '256.00',
    '256.00',
    o.status,
    '张三',
    '浙江省 杭州市 西湖区 文三路 478号',
    '13812345678',
    '2025-11-20 10:00:00',
    '2025-11-20 10:01:00',
    o.trackingNo ?? '',
    o.carrier ?? '',
    '2',
    '茶叶旗舰店',
    o.refund ?? '0.00',
    o.shippedAt ?? '',
    o.refundStatus ?? '',
  ].join(',');

async function draftOf(r: string) {
  const o = await readTable(encode([HEADER, r].join('\r\n'), 'gbk'), 'ExportOrderList.csv');
  const i = await readTable(ITEMS, 'ExportOrderDetailList.csv');
  const m = mapOrders(registry.get('taobao-classic'), o.table, i.table);
  expect(m.rejected).toEqual([]);
  return m.drafts[0];
}

describe('Taobao 订单报表: an order refunded after it shipped', () => {
  it('交易关闭 with 退款金额 = paid and a 物流单号 / 发货时间: held as shipped outside Flowline before the payment (no reservation), then refunded in full', async () => {
    const d = await draftOf(row({ status: '交易关闭', refund: '256.00', trackingNo: 'SF1234567890', carrier: '顺丰速运', shippedAt: '2025-11-21 09:00:00' }));
    expect(d).toMatchObject({ state: 'closed', trackingNo: 'SF1234567890', shippedAt: '2025-11-21T01:00:00.000Z' });
    const steps = planSync(d, new Set());
    expect(steps.map((a) => a.step)).toEqual(['placed', 'held', 'paid', 'refundRequested', 'refunded']);
    expect(steps[1]).toMatchObject({ reason: expect.stringMatching(/交易关闭.*顺丰速运 SF1234567890.*退款.*closed and refunded on the platform after it shipped/s) });
    expect(steps.slice(3)).toEqual([
      { step: 'refundRequested', amount: 25600, reason: expect.stringContaining('after shipment') },
      { step: 'refunded', amount: 25600 },
    ]);
  });

  it('a 发货时间 alone (no 物流单号, e.g. 无需物流) is a shipment too', async () => {
    const d = await draftOf(row({ status: '交易关闭', refund: '256.00', shippedAt: '2025-11-21 09:00:00' }));
    expect(planSync(d, new Set()).map((a) => a.step)).toEqual(['placed', 'held', 'paid', 'refundRequested', 'refunded']);
  });

  it('退款状态 退款成功 on a shipped / completed row is an after-sales refund, not a plain shipped order', async () => {
    const d = await draftOf(row({ status: '交易成功', refund: '256.00', trackingNo: 'SF1234567890', carrier: '顺丰速运', shippedAt: '2025-11-21 09:00:00', refundStatus: '退款成功' }));
    expect(d.afterSales).toBe('refunded');
    expect(planSync(d, new Set()).map((a) => a.step)).toEqual(['placed', 'held', 'paid', 'refundRequested', 'refunded']);
    const requested = await draftOf(row({ status: '卖家已发货，等待买家确认', trackingNo: 'SF1234567890', refundStatus: '买家已经申请退款，等待卖家同意' }));
    expect(requested.afterSales).toBe('refund_requested');
  });

  it('an order Flowline already paid (and shipped) gets only the refund, no hold', async () => {
    const d = await draftOf(row({ status: '交易关闭', refund: '256.00', trackingNo: 'SF1234567890', shippedAt: '2025-11-21 09:00:00' }));
    expect(planSync(d, new Set(['placed', 'paid'])).map((a) => a.step)).toEqual(['refundRequested', 'refunded']);
    // Held by an earlier export that showed it shipped: the hold is not asked for again.
    expect(planSync(d, new Set(['placed', 'held', 'paid'])).map((a) => a.step)).toEqual(['refundRequested', 'refunded']);
  });

  it('closed after payment with no sign of a shipment stays a refund before shipment (no hold)', async () => {
    const d = await draftOf(row({ status: '交易关闭', refund: '256.00' }));
    expect(planSync(d, new Set()).map((a) => a.step)).toEqual(['placed', 'paid', 'refundRequested', 'refunded']);
  });
});
