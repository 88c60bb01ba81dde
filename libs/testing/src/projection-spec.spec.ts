import { AssertionError } from 'node:assert';
import type { ContractEnvelope, ContractType, OrderEventDataMap } from '@flowline/contracts';
import { describe, expect, it } from 'vitest';
import { keyedProjection, projectionSpec, type Projection } from './projection-spec';

// A small read model of the kind services build: what each order owes, from orders.events.v1.
interface OrderBalanceRow {
  orderId: string;
  channelOrderId: string;
  grandTotal: number;
  paid: number;
  refunded: number;
  /** grandTotal - paid + refunded, in fen. */
  outstanding: number;
}

type OrderEnvelope = { [T in keyof OrderEventDataMap]: ContractEnvelope<T> }[keyof OrderEventDataMap];

const orderBalance = keyedProjection<OrderEnvelope, OrderBalanceRow>({
  keyOf: (e) => e.data.orderId,
  project(row, e) {
    switch (e.type) {
      case 'OrderPlaced': {
        const total = e.data.totals.grandTotal;
        return row ?? { orderId: e.data.orderId, channelOrderId: e.data.channelOrderId, grandTotal: total, paid: 0, refunded: 0, outstanding: total };
      }
      case 'OrderPaid':
        return row && { ...row, paid: row.paid + e.data.amount, outstanding: row.outstanding - e.data.amount };
      case 'OrderRefunded':
        return row && { ...row, refunded: row.refunded + e.data.amount, outstanding: row.outstanding + e.data.amount };
      case 'OrderArchived':
        return null;
      default:
        return undefined;
    }
  },
});

let position = 0;
function envelope<T extends ContractType>(type: T, data: ContractEnvelope<T>['data']): ContractEnvelope<T> {
  position++;
  return {
    eventId: `evt-${position}`,
    type,
    schemaVersion: 1,
    streamId: `order-${(data as { orderId: string }).orderId}`,
    streamPosition: position,
    occurredAt: new Date(Date.UTC(2025, 10, 25, 8, 0, position)).toISOString(),
    correlationId: 'corr-1',
    causationId: null,
    data,
  };
}

function placed(orderId: string, grandTotal: number): ContractEnvelope<'OrderPlaced'> {
  return envelope('OrderPlaced', {
    orderId,
    channel: 'taobao',
    channelOrderId: `41287356098123456${orderId.slice(-2)}`,
    shopId: 'taobao-xihu-tea-house',
    customer: { nameMasked: '张*', phoneMasked: '138****5678', tags: [] },
    shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区' },
    lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', title: '西湖龙井 250g', quantity: 1, unitPrice: grandTotal, lineDiscount: 0 }],
    totals: { itemsTotal: grandTotal, shippingFee: 0, orderDiscount: 0, grandTotal, currency: 'CNY' },
    tags: [],
    attachments: [],
    placedAt: '2025-11-25T07:59:00.000Z',
  });
}
const paid = (orderId: string, amount: number) => envelope('OrderPaid', { orderId, amount, currency: 'CNY', paidAt: '2025-11-25T08:01:00.000Z' });
const refunded = (orderId: string, amount: number) => envelope('OrderRefunded', { orderId, amount, afterShipment: true });

const spec = projectionSpec(orderBalance);

describe('projectionSpec', () => {
  it('given events, then the exact rows (sorted by key)', () => {
    spec.given([placed('o-02', 12800), placed('o-01', 28100), paid('o-01', 28100)]).then([
      { orderId: 'o-01', channelOrderId: '4128735609812345601', grandTotal: 28100, paid: 28100, refunded: 0, outstanding: 0 },
      { orderId: 'o-02', channelOrderId: '4128735609812345602', grandTotal: 12800, paid: 0, refunded: 0, outstanding: 12800 },
    ]);
  });

  it('when an event arrives, then the rows it leads to; thenMatch compares the listed fields', () => {
    const rows = spec
      .given([placed('o-01', 28100), paid('o-01', 28100)])
      .when(refunded('o-01', 3500))
      .thenMatch([{ orderId: 'o-01', refunded: 3500, outstanding: 3500 }]);
    expect(rows).toHaveLength(1);
  });

  it('thenUnchanged: an event the view ignores changes no row', () => {
    spec.given([placed('o-01', 28100)]).when(envelope('OrderPacked', { orderId: 'o-01', shipmentId: 'SHP-1' })).thenUnchanged();
  });

  it('a projection may delete rows', () => {
    spec.given([placed('o-01', 100), placed('o-02', 200)]).when(envelope('OrderArchived', { orderId: 'o-01' })).thenMatch([{ orderId: 'o-02' }]);
  });

  it('fails with an assertion error when the rows differ', () => {
    const given = spec.given([placed('o-01', 28100)]);
    expect(() => given.then([])).toThrow(AssertionError);
    expect(() => given.thenMatch([{ outstanding: 0 }])).toThrow(/rows\[0\]\.outstanding/);
    expect(() => given.thenMatch([{}, {}])).toThrow(/expected 2 row\(s\), got 1/);
    expect(() => given.when(paid('o-01', 100)).thenUnchanged()).toThrow(/stay as they were/);
  });

  it('catches a projection that mutates the state it was given (a rebuild would disagree with the live view)', () => {
    type Board = { counts: Record<string, number> };
    const mutating: Projection<Board, ContractEnvelope, { type: string; count: number }> = {
      initialState: () => ({ counts: {} }),
      evolve(state, e) {
        state.counts[e.type] = (state.counts[e.type] ?? 0) + 1;
        return state;
      },
      rows: (s) => Object.entries(s.counts).map(([type, count]) => ({ type, count })),
    };
    expect(() => projectionSpec(mutating).given([placed('o-01', 1)]).when(paid('o-01', 1))).toThrow(/evolve mutated the state it was given/);

    const pure: Projection<Board, ContractEnvelope, { type: string; count: number }> = {
      ...mutating,
      evolve: (s, e) => ({ counts: { ...s.counts, [e.type]: (s.counts[e.type] ?? 0) + 1 } }),
    };
    projectionSpec(pure)
      .given([placed('o-01', 1)])
      .when(paid('o-01', 1), paid('o-01', 1))
      .then([
        { type: 'OrderPlaced', count: 1 },
        { type: 'OrderPaid', count: 2 },
      ]);
  });

  it('compares rows as JSON: an undefined field equals an absent one', () => {
    const p = keyedProjection<{ id: string; note?: string }, { id: string; note?: string }>({ keyOf: (e) => e.id, project: (_row, e) => ({ id: e.id, note: e.note }) });
    projectionSpec(p).given([{ id: 'a' }]).then([{ id: 'a' }]);
  });
});
