import type { EventEnvelope } from '@flowline/contracts';
import { describe, expect, it } from 'vitest';
import { customerKey, factChanges } from './analytics-event';

const env = (type: string, data: unknown): EventEnvelope => ({ eventId: `e-${type}`, type, schemaVersion: 1, streamId: 'order-o1', streamPosition: 0, occurredAt: '2026-06-01T02:00:00.000Z', correlationId: 'c', causationId: null, data });

describe('analytics facts from integration events', () => {
  it("an OrderPaid counts on the day the customer paid: the platform's reported time of an import, else the recorded one", () => {
    expect(factChanges(env('OrderPaid', { orderId: 'o1', amount: 100, currency: 'CNY', paidAt: '2026-06-01T02:00:00.000Z', reportedPaidAt: '2026-05-31T15:59:00.000Z' }))).toEqual([
      { kind: 'order_paid', orderId: 'o1', amount: 100, paidAt: '2026-05-31T15:59:00.000Z' },
    ]);
    expect(factChanges(env('OrderPaid', { orderId: 'o1', amount: 100, currency: 'CNY', paidAt: '2026-06-01T02:00:00.000Z' }))).toEqual([
      { kind: 'order_paid', orderId: 'o1', amount: 100, paidAt: '2026-06-01T02:00:00.000Z' },
    ]);
  });

  it('an OrderPlaced becomes an order fact keyed by the channel customer id, with its lines (no clear PII)', () => {
    const [c] = factChanges(
      env('OrderPlaced', {
        orderId: 'o1',
        channel: 'jd',
        channelOrderId: 'JD-1',
        shopId: 'jd-1',
        customer: { channelCustomerId: 'jd_lilei', nickname: 'jd_小李', nameMasked: '李*', phoneMasked: '138****1234', tags: [] },
        shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区' },
        lines: [{ lineId: '1', sku: 'TEA', title: '茶', quantity: 2, unitPrice: 12800, lineDiscount: 100 }],
        totals: { itemsTotal: 25500, shippingFee: 0, orderDiscount: 500, grandTotal: 25000, currency: 'CNY' },
        tags: [],
        attachments: [],
        placedAt: '2026-06-01T01:59:00.000Z',
      }),
    );
    expect(c).toEqual({
      kind: 'order_placed',
      order: { orderId: 'o1', channel: 'jd', channelOrderId: 'JD-1', shopId: 'jd-1', customerKey: 'jd:jd_lilei', province: '浙江省', placedAt: '2026-06-01T01:59:00.000Z', currency: 'CNY', itemsTotal: 25500, shippingFee: 0, orderDiscount: 500, grandTotal: 25000 },
      lines: [{ lineId: '1', sku: 'TEA', quantity: 2, unitPrice: 12800, lineDiscount: 100 }],
    });
    expect(JSON.stringify(c)).not.toContain('138');
  });

  it('an OrderChanged replaces the lines and totals (and allocations when it re-reserved)', () => {
    expect(
      factChanges(
        env('OrderChanged', {
          orderId: 'o1',
          approvalId: 'a',
          changeRequestId: 'cr',
          lines: [{ lineId: '2', sku: 'CUP', title: '杯', quantity: 4, unitPrice: 5900, lineDiscount: 0 }],
          totals: { itemsTotal: 23600, shippingFee: 0, orderDiscount: 0, grandTotal: 23600, currency: 'CNY' },
          changes: { added: ['2'], removed: ['1'], quantities: [] },
          priceDifference: -1400,
          allocations: [{ lineId: '2', sku: 'CUP', warehouseId: 'WH-SH', quantity: 4 }],
        }),
      ),
    ).toEqual([
      {
        kind: 'order_changed',
        orderId: 'o1',
        totals: { itemsTotal: 23600, shippingFee: 0, orderDiscount: 0, grandTotal: 23600 },
        lines: [{ lineId: '2', sku: 'CUP', quantity: 4, unitPrice: 5900, lineDiscount: 0 }],
        allocations: [{ lineId: '2', sku: 'CUP', warehouseId: 'WH-SH', quantity: 4 }],
      },
    ]);
  });

  it('ignores events that change no fact, and keys customers without an id by nickname', () => {
    expect(factChanges(env('OrderPutOnHold', { orderId: 'o1', reason: 'x' }))).toEqual([]);
    expect(customerKey('taobao', { nickname: 'tb小王' })).toBe('taobao:tb小王');
    expect(customerKey('web', undefined)).toBe('web:anonymous');
  });
});
