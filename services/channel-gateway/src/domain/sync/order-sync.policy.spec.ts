import { describe, expect, it } from 'vitest';
import type { ChannelOrderDraft } from '../import/map-orders';
import { planSync } from './order-sync.policy';

const draft = (over: Partial<ChannelOrderDraft> = {}): ChannelOrderDraft => ({
  channel: 'taobao',
  channelOrderId: '4012345678901234567',
  shopId: 's',
  platformStatus: '买家已付款，等待卖家发货',
  state: 'paid',
  afterSales: 'none',
  placedAt: '2025-11-25T07:59:00.000Z',
  paidAt: '2025-11-25T08:00:00.000Z',
  recipient: '张三',
  phone: '13812345678',
  address: null,
  addressText: '',
  pii: { name: 'clear', phone: 'clear', address: 'clear' },
  lines: [{ lineId: '1', sku: 'A', title: 'a', quantity: 1, unitPrice: 100 }],
  money: { goods: 100, shippingFee: 0, paid: 100, orderDiscount: 0, platformDiscount: 0, shopDiscount: 0, refund: 0 },
  rowNumbers: [2],
  rawRows: [],
  ...over,
});

describe('platform status -> order flow', () => {
  it('places and pays a paid order', () => {
    expect(planSync(draft(), new Set()).map((a) => a.step)).toEqual(['placed', 'paid']);
  });

  it("pays with the platform's pay time (付款时间), so reports count from when the buyer paid, not from the import", () => {
    expect(planSync(draft(), new Set())[1]).toEqual({ step: 'paid', amount: 100, paymentRef: 'taobao:4012345678901234567', paidAt: '2025-11-25T08:00:00.000Z' });
    // Paid by status alone (no pay time in the export): the time it is recorded.
    expect(planSync(draft({ paidAt: null }), new Set())[1]).toEqual({ step: 'paid', amount: 100, paymentRef: 'taobao:4012345678901234567' });
  });

  it('holds an order first seen already shipped or completed on the platform, with its parcel, so it is not shipped twice', () => {
    const shipped = planSync(draft({ state: 'shipped', platformStatus: '卖家已发货，等待买家确认', carrier: '顺丰速运', trackingNo: 'SF1234567890' }), new Set());
    expect(shipped.map((a) => a.step)).toEqual(['placed', 'held', 'paid']);
    expect(shipped[1]).toMatchObject({ step: 'held', reason: expect.stringContaining('顺丰速运 SF1234567890') });
    expect(planSync(draft({ state: 'completed', platformStatus: '交易成功' }), new Set()).map((a) => a.step)).toEqual(['placed', 'held', 'paid']);
    // Placed while still to ship (Flowline shipped it, the platform now says so): nothing to hold.
    expect(planSync(draft({ state: 'shipped' }), new Set(['placed', 'paid']))).toEqual([]);
    // A hold once applied is not repeated on the next import.
    expect(planSync(draft({ state: 'shipped' }), new Set(['placed', 'held', 'paid']))).toEqual([]);
    // Placed, then the hold call failed (network): the next import holds before it pays.
    expect(planSync(draft({ state: 'shipped' }), new Set(['placed'])).map((a) => a.step)).toEqual(['held', 'paid']);
  });

  it('cancels an order the platform closed before payment', () => {
    expect(planSync(draft({ state: 'closed', paidAt: null, platformStatus: '交易关闭' }), new Set(['placed']))).toEqual([
      { step: 'cancelled', reason: 'platform closed the unpaid order (taobao 交易关闭)' },
    ]);
  });

  it('refunds (request + record) an order the platform closed after payment', () => {
    expect(planSync(draft({ state: 'closed', platformStatus: '交易关闭' }), new Set(['placed', 'paid'])).map((a) => [a.step, 'amount' in a ? a.amount : null])).toEqual([
      ['refundRequested', 100],
      ['refunded', 100],
    ]);
  });

  it('asks for a refund on an after-sales request, and records it once refunded', () => {
    expect(planSync(draft({ afterSales: 'refund_requested', money: { ...draft().money, refund: 60 } }), new Set(['placed', 'paid']))).toEqual([
      { step: 'refundRequested', amount: 60, reason: 'platform after-sales refund (taobao 买家已付款，等待卖家发货)' },
    ]);
    expect(planSync(draft({ afterSales: 'refunded', money: { ...draft().money, refund: 60 } }), new Set(['placed', 'paid', 'refundRequested'])).map((a) => a.step)).toEqual(['refunded']);
  });

  it('refunds, not cancels, an order closed unpaid on the platform that the flow already recorded as paid', () => {
    expect(planSync(draft({ state: 'closed', paidAt: null, platformStatus: '已作废' }), new Set(['placed', 'paid'])).map((a) => a.step)).toEqual(['refundRequested', 'refunded']);
  });

  it('repeats nothing already applied', () => {
    expect(planSync(draft(), new Set(['placed', 'paid']))).toEqual([]);
  });
});
