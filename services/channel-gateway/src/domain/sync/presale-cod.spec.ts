import { encode } from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { mapOrders } from '../import/map-orders';
import { toSubmission } from '../import/submission';
import { planSync } from './order-sync.policy';

// Presale (预售) and cash-on-delivery (货到付款) rows in a Taobao classic export (GBK, profile v2),
// mapped to drafts, canonical submissions and the steps sent to order-intake.

const registry = new ProfileRegistry();
const ORDERS_HEADER =
  '订单编号,买家会员名,买家应付邮费,买家实际支付金额,订单状态,收货人姓名,收货地址 ,联系手机,订单创建时间,订单付款时间 ,店铺名称,退款金额,定金,尾款,尾款支付截止时间,预计发货时间,支付方式';
const ITEMS_HEADER = '订单编号,标题,价格,购买数量,商家编码';
const ADDR = '浙江省 杭州市 西湖区 文三路 478号';
const ordersFile = (...rows: string[]) => encode([ORDERS_HEADER, ...rows].join('\r\n'), 'gbk');
const itemsFile = encode([ITEMS_HEADER, '"=""4012000000000000001""",明前龙井 250g,128.00,2,TEA-LJ-250', '"=""4012000000000000002""",明前龙井 250g,128.00,1,TEA-LJ-250'].join('\r\n'), 'gbk');

async function map(...rows: string[]) {
  const o = await readTable(ordersFile(...rows), 'orders.csv');
  const i = await readTable(itemsFile, 'items.csv');
  return mapOrders(registry.get('taobao-classic'), o.table, i.table);
}

const presaleRow = (status: string, paid: string, paidAt = '2025-10-21 20:05:00') =>
  `"=""4012000000000000001""",tb_预售买家,0.00,${paid},${status},张三,${ADDR},13812345678,2025-10-21 20:00:00,${paidAt},茶叶旗舰店,0.00,50.00,206.00,2025-11-11 23:59:59,2025-11-13 00:00:00,在线支付`;
const codRow = (status: string) =>
  `"=""4012000000000000002""",tb_到付买家,0.00,0.00,${status},李四,${ADDR},13900001111,2025-10-22 09:00:00,,茶叶旗舰店,0.00,,,,,货到付款`;

describe('presale (预售) rows', () => {
  it('等待买家付尾款 -> deposit_paid: presale terms in fen and ISO, grand total deposit + balance, deposit step only', async () => {
    const r = await map(presaleRow('等待买家付尾款', '50.00'));
    expect(r.rejected).toEqual([]);
    const d = r.drafts[0];
    expect(d.state).toBe('deposit_paid');
    expect(d.presale).toEqual({ depositAmount: 5000, balanceDueBy: '2025-11-11T15:59:59.000Z', shipNotBefore: '2025-11-12T16:00:00.000Z' });
    expect(d.money.paid).toBe(25600);
    const s = toSubmission(d);
    expect(s.presale).toEqual(d.presale);
    expect(s.paymentMethod).toBeUndefined();
    expect(planSync(d, new Set())).toEqual([
      { step: 'placed' },
      { step: 'depositPaid', amount: 5000, paymentRef: 'taobao:4012000000000000001:deposit', paidAt: '2025-10-21T12:05:00.000Z' },
    ]);
  });

  it('re-export after the balance (买家已付款，等待卖家发货) -> the balance as the paid step; the whole at once when the deposit was never seen', async () => {
    const d = (await map(presaleRow('买家已付款，等待卖家发货', '256.00'))).drafts[0];
    expect(planSync(d, new Set(['placed', 'depositPaid']))).toEqual([{ step: 'paid', amount: 20600, paymentRef: 'taobao:4012000000000000001:balance' }]);
    expect(planSync(d, new Set())).toEqual([{ step: 'placed' }, { step: 'paid', amount: 25600, paymentRef: 'taobao:4012000000000000001' }]);
  });

  it('closed with the balance unpaid (交易关闭) -> cancel (order-intake releases the stock)', async () => {
    const d = (await map(presaleRow('交易关闭', '50.00'))).drafts[0];
    expect(planSync(d, new Set(['placed', 'depositPaid']))).toEqual([{ step: 'cancelled', reason: 'platform closed the presale order, balance unpaid (taobao 交易关闭)' }]);
  });
});

describe('cash on delivery (货到付款) rows', () => {
  it('支付方式 货到付款: paymentMethod cod, the amount due from the lines, placed without a payment step', async () => {
    const r = await map(codRow('买家已付款，等待卖家发货'));
    expect(r.rejected).toEqual([]);
    const d = r.drafts[0];
    expect(d.paymentMethod).toBe('cod');
    expect(d.money.paid).toBe(12800);
    expect(toSubmission(d).paymentMethod).toBe('cod');
    expect(planSync(d, new Set())).toEqual([{ step: 'placed' }]);
    // Shipped / completed on the platform: still no payment from the gateway (order-intake records it at delivery).
    expect(planSync({ ...d, state: 'completed' }, new Set(['placed']))).toEqual([]);
  });

  it('a COD order closed on the platform (buyer refused) -> cancel', async () => {
    const d = (await map(codRow('交易关闭'))).drafts[0];
    expect(planSync(d, new Set(['placed']))).toEqual([{ step: 'cancelled', reason: 'platform closed the COD order (taobao 交易关闭)' }]);
  });
});

it('profiles: taobao-classic v2 and douyin v2 map the presale status words; jd v2 knows 货到付款', () => {
  const tb = registry.get('taobao-classic');
  const dy = registry.get('douyin');
  // v3 of taobao-classic and jd add the designated carrier (+ jd weights, #12); douyin v3 reads per-line states;
  // taobao-classic v4 reads 发货时间, 退款状态 and 宝贝总数量; v5 the items' 订单状态. douyin v4: per
  // sub-order amounts; jd v4: 锁定 held, 货号.
  expect([tb.version, dy.version, registry.get('jd').version]).toEqual([5, 4, 4]);
  expect([tb.statuses['等待买家付尾款'], tb.statuses['已付定金'], dy.statuses['待付尾款']]).toEqual(['deposit_paid', 'deposit_paid', 'deposit_paid']);
  expect(registry.get('jd').cod?.values).toEqual(['货到付款']);
});
