import type { TrackingOrderDetailView, TrackingTimelineEntryView } from '@flowline/contracts';
import { describe, expect, it } from 'vitest';
import { changeWithoutPayment, customerView, withoutPayment } from './customer-view';

const entry = (type: string, context: string, actor: TrackingTimelineEntryView['actor'], stageAfter: TrackingTimelineEntryView['stageAfter'] = 'paid'): TrackingTimelineEntryView => ({
  eventId: type,
  type,
  context,
  occurredAt: '2026-12-06T08:00:00.000Z',
  streamId: 'order-1',
  streamPosition: 0,
  actor,
  who: { zh: '客服 王芳', en: 'Customer service Wang Fang' },
  what: { zh: type, en: type },
  why: { zh: '客户来电核对', en: 'customer called' },
  rule: null,
  stageAfter,
  correlationId: 'c',
  causationId: null,
});

const staff = { kind: 'user', id: 'cs-wang', role: 'customer_service', name: '王芳' } as TrackingTimelineEntryView['actor'];
const buyer = { kind: 'customer', id: 'cust-1' } as TrackingTimelineEntryView['actor'];

describe('an order as its buyer sees it', () => {
  const detail = {
    order: { orderId: '1', flags: ['on_hold'], manualTouch: true, stuck: true, priority: 'high', holdReason: '核对地址', exceptionCode: 'STOCK_SHORTAGE', exceptionReason: '缺货', lastRule: { ruleId: 'r', ruleSetVersion: '1', decision: 'hold' }, approvalChain: 'custom' },
    timeline: [
      entry('OrderPlaced', 'orders', buyer, 'placed'),
      entry('OrderPiiRevealed', 'orders', staff),
      entry('OrderPutOnHold', 'orders', staff),
      entry('OrderHoldReleased', 'orders', staff),
      entry('OrderRuleDecided', 'orders', null),
      entry('StockReserved', 'inventory', null),
      entry('NotificationSent', 'notification', null),
      entry('ShipmentInterceptRequested', 'fulfillment', staff),
      entry('OrderApprovalRequired', 'orders', null, 'awaiting_approval'),
      entry('OrderPaid', 'orders', buyer),
      entry('OrderChanged', 'orders', staff),
      entry('ShipmentTrackingUpdated', 'fulfillment', null, 'shipped'),
    ],
    stageDurations: [],
    shipments: [{ shipmentId: 'S1', warehouseId: 'WH-SH', status: 'shipped', carrier: 'SF', waybillNo: 'SF1', trackingNumber: 'SF1' }],
    approvalChains: [{ approvalId: 'a', chain: 'custom', kind: 'order', chainVersion: null, status: 'pending', requestedAt: '', decidedAt: null, steps: [] }],
    asOf: null,
  } as unknown as TrackingOrderDetailView;

  it('keeps the journey and parcel news, drops staff audit entries, holds, rules, stock and the notification log', () => {
    expect(customerView(detail).timeline.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid', 'OrderChanged', 'ShipmentTrackingUpdated']);
  });

  it('names no staff member and gives no staff reason; the buyer is "you"', () => {
    const v = customerView(detail);
    expect(v.timeline.map((e) => e.who.zh)).toEqual(['您', '您', '商家', '商家']);
    expect(v.timeline.every((e) => e.actor === null && e.why === null && e.rule === null)).toBe(true);
    expect(JSON.stringify(v)).not.toContain('王芳');
    expect(JSON.stringify(v)).not.toContain('客户来电核对');
  });

  it('clears the internal fields of the order and leaves out its approval chains', () => {
    const v = customerView(detail);
    expect(v.order).toMatchObject({ flags: [], holdReason: null, exceptionCode: null, exceptionReason: null, lastRule: null, approvalChain: null, manualTouch: false, stuck: false, priority: 'normal' });
    expect(v.approvalChains).toBeUndefined();
    expect(v.shipments?.[0]).toMatchObject({ shipmentId: 'S1', warehouseId: null, trackingNumber: 'SF1' });
  });
});

describe('an order as staff without its payment fields (warehouse) see it', () => {
  it('drops the paid and refunded amounts and the payment references of the money entries; keeps the totals and every other entry', () => {
    const order = { orderId: '1', grandTotal: 64500, paidAmount: 64500, refundedAmount: 0 } as unknown as TrackingOrderDetailView['order'];
    const timeline = [entry('OrderPaid', 'orders', staff), entry('OrderPutOnHold', 'orders', staff), entry('OrderRefunded', 'orders', staff), entry('ShipmentPacked', 'fulfillment', staff)];
    const seen = withoutPayment({ order, timeline });
    expect(seen.order).toEqual({ orderId: '1', grandTotal: 64500 });
    expect(seen.timeline.map((e) => [e.type, e.why])).toEqual([
      ['OrderPaid', null],
      ['OrderPutOnHold', { zh: '客户来电核对', en: 'customer called' }],
      ['OrderRefunded', null],
      ['ShipmentPacked', { zh: '客户来电核对', en: 'customer called' }],
    ]);
    const change = changeWithoutPayment({ kind: 'order', order, entry: entry('OrderPaid', 'orders', staff) });
    expect(change).toMatchObject({ kind: 'order', order: { orderId: '1', grandTotal: 64500 }, entry: { type: 'OrderPaid', why: null } });
    expect(change.kind === 'order' && 'paidAmount' in change.order).toBe(false);
    expect(changeWithoutPayment({ kind: 'rebuilt', at: 'x' })).toEqual({ kind: 'rebuilt', at: 'x' });
  });
});
