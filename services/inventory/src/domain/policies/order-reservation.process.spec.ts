import { describe, expect, it } from 'vitest';
import { fold } from '@flowline/domain';
import { orderReservationDecider, type OrderReservationEvent, type OrderReservationState } from '../order-reservation.decider';
import { ledgerKey, levelsOf, stockLedgerDecider, type StockLedgerEvent, type StockLedgerState, type StockPolicy } from '../stock-ledger.decider';
import { commitOrder, expireOrder, releaseOrder, reserveOrder, type LedgerAccess, type ReserveOrderRequest } from './order-reservation.process';
import { singleThenSplitByPriority } from './warehouse-allocation.policy';

const at = '2026-05-01T10:00:00.000Z';
const warehouses = [
  { warehouseId: 'WH-SH', priority: 1 },
  { warehouseId: 'WH-GZ', priority: 2 },
];

/** A little world of ledgers that applies the events a process returns, like the service does. */
class World implements LedgerAccess {
  readonly ledgers = new Map<string, StockLedgerState>();
  readonly orders = new Map<string, OrderReservationState>();
  readonly warehouses = warehouses;
  constructor(private readonly policies: Record<string, Partial<StockPolicy>> = {}) {}
  ledger(sku: string, wh: string): StockLedgerState {
    return this.ledgers.get(ledgerKey(sku, wh)) ?? stockLedgerDecider.initialState();
  }
  policy(sku: string): StockPolicy {
    return { safetyStock: 0, allowBackorder: false, ...this.policies[sku] };
  }
  order(id: string): OrderReservationState {
    return this.orders.get(id) ?? orderReservationDecider.initialState();
  }
  receive(sku: string, wh: string, quantity: number): this {
    this.apply([], stockLedgerDecider.decide({ type: 'ReceiveStock', sku, warehouseId: wh, at, quantity }, this.ledger(sku, wh)));
    return this;
  }
  apply(orderEvents: OrderReservationEvent[], ledgerEvents: StockLedgerEvent[]): void {
    for (const e of ledgerEvents) this.ledgers.set(ledgerKey(e.sku, e.warehouseId), stockLedgerDecider.evolve(this.ledger(e.sku, e.warehouseId), e));
    for (const e of orderEvents) this.orders.set(e.orderId, orderReservationDecider.evolve(this.order(e.orderId), e));
  }
  levels(sku: string, wh: string) {
    return levelsOf(this.ledger(sku, wh));
  }
  reserve(request: Omit<ReserveOrderRequest, 'reservationId' | 'channel' | 'at'> & Partial<ReserveOrderRequest>) {
    const r = reserveOrder({ reservationId: `r-${request.orderId}`, channel: 'tmall', at, ...request }, this.order(request.orderId), this, singleThenSplitByPriority);
    this.apply(r.orderEvents, r.ledgerEvents);
    return r;
  }
}

describe('reserving an order: all or nothing', () => {
  it('reserves every line in one warehouse when it can', () => {
    const w = new World().receive('TEA', 'WH-SH', 5).receive('CUP', 'WH-SH', 5);
    const r = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }, { lineId: '2', sku: 'CUP', quantity: 1 }] });
    expect(r.outcome.kind).toBe('reserved');
    expect(r.orderEvents.map((e) => e.type)).toEqual(['ReservationConfirmed']);
    expect(w.levels('TEA', 'WH-SH').reserved).toBe(2);
    expect(w.levels('CUP', 'WH-SH').reserved).toBe(1);
  });

  it('holds nothing when one line is short, and says which SKU misses how much', () => {
    const w = new World().receive('TEA', 'WH-SH', 5).receive('CUP', 'WH-SH', 1);
    const r = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }, { lineId: '2', sku: 'CUP', quantity: 3 }] });
    expect(r.outcome).toEqual({ kind: 'shortage', missing: [{ sku: 'CUP', requested: 3, available: 1, lineIds: ['2'] }] });
    expect(r.ledgerEvents).toEqual([]);
    expect(w.levels('TEA', 'WH-SH').reserved).toBe(0);
    expect(w.order('o1').status).toBe('refused');
  });

  it('checks the same SKU on two lines against the sum', () => {
    const w = new World().receive('TEA', 'WH-SH', 5);
    const r = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 3 }, { lineId: '2', sku: 'TEA', quantity: 3 }] });
    expect(r.outcome).toEqual({ kind: 'shortage', missing: [{ sku: 'TEA', requested: 6, available: 5, lineIds: ['1', '2'] }] });
  });

  it('splits across warehouses by priority when no single one fills the order', () => {
    const w = new World().receive('TEA', 'WH-SH', 2).receive('TEA', 'WH-GZ', 2);
    const r = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 3 }] });
    expect(r.outcome).toEqual({ kind: 'reserved', allocations: [
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-SH', quantity: 2 },
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-GZ', quantity: 1 },
    ] });
  });

  it('compensates a partial success when stock went between the check and the reserve, then reports a clean shortage', () => {
    const w = new World().receive('TEA', 'WH-SH', 2).receive('TEA', 'WH-GZ', 2);
    // The check saw 2 + 2, but WH-GZ's units were taken by someone else before the reserve.
    const staleView = (sku: string, wh: string) => w.ledger(sku, wh);
    const snapshot = new Map(w.ledgers);
    w.reserve({ orderId: 'other', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }] }); // takes WH-SH (preferred)
    const view = (sku: string, wh: string) => snapshot.get(ledgerKey(sku, wh)) ?? staleView(sku, wh);
    const r = reserveOrder({ orderId: 'o1', reservationId: 'r-o1', channel: 'tmall', at, lines: [{ lineId: '1', sku: 'TEA', quantity: 3 }] }, w.order('o1'), w, singleThenSplitByPriority, view);
    w.apply(r.orderEvents, r.ledgerEvents);
    expect(r.outcome).toEqual({ kind: 'shortage', missing: [{ sku: 'TEA', requested: 3, available: 2, lineIds: ['1'] }] });
    // Nothing held for o1 anywhere; other still has its 2.
    expect(w.levels('TEA', 'WH-SH')).toMatchObject({ reserved: 2, available: 0 });
    expect(w.levels('TEA', 'WH-GZ')).toMatchObject({ reserved: 0, available: 2 });
  });

  it('re-plans against the ledgers when the check view was stale and a split still fits', () => {
    const w = new World().receive('TEA', 'WH-GZ', 1).receive('TEA', 'WH-SH', 2);
    const view = (sku: string, wh: string) => (wh === 'WH-SH' ? fold(stockLedgerDecider, [{ type: 'StockReceived', sku, warehouseId: wh, at, quantity: 2 }]) : fold(stockLedgerDecider, [{ type: 'StockReceived', sku, warehouseId: wh, at, quantity: 5 }]));
    // The view says WH-GZ alone has 5 and fills the order; in reality it has 1.
    const r = reserveOrder({ orderId: 'o1', reservationId: 'r-o1', channel: 'tmall', at, lines: [{ lineId: '1', sku: 'TEA', quantity: 3 }] }, w.order('o1'), w, singleThenSplitByPriority, view);
    w.apply(r.orderEvents, r.ledgerEvents);
    // Re-planned against reality: 2 in WH-SH + 1 in WH-GZ.
    expect(r.outcome.kind).toBe('reserved');
    expect(w.levels('TEA', 'WH-SH').reserved + w.levels('TEA', 'WH-GZ').reserved).toBe(3);
  });

  it('compensates ledgers already reserved when a later ledger refuses', () => {
    const w = new World().receive('CUP', 'WH-SH', 5).receive('TEA', 'WH-SH', 1);
    // Stale view: TEA 5 in WH-SH. CUP (sorted first) is reserved, then TEA refuses -> CUP released.
    const view = (sku: string, wh: string) => (sku === 'TEA' ? fold(stockLedgerDecider, [{ type: 'StockReceived', sku, warehouseId: wh, at, quantity: 5 }]) : w.ledger(sku, wh));
    const r = reserveOrder(
      { orderId: 'o1', reservationId: 'r-o1', channel: 'tmall', at, lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }, { lineId: '2', sku: 'CUP', quantity: 1 }] },
      w.order('o1'),
      w,
      singleThenSplitByPriority,
      view,
    );
    w.apply(r.orderEvents, r.ledgerEvents);
    expect(r.ledgerEvents.map((e) => `${e.type}:${e.sku}`)).toEqual(['StockLineReserved:CUP', 'StockLineReleased:CUP']);
    expect(r.ledgerEvents[1]).toMatchObject({ reason: 'compensation' });
    expect(r.outcome).toEqual({ kind: 'shortage', missing: [{ sku: 'TEA', requested: 2, available: 1, lineIds: ['1'] }] });
    expect(w.levels('CUP', 'WH-SH').reserved).toBe(0);
  });

  it('a repeated request for an order already reserved changes nothing', () => {
    const w = new World().receive('TEA', 'WH-SH', 5);
    w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }] });
    const again = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }] });
    expect(again).toEqual({ outcome: { kind: 'already_reserved', expiryCleared: false }, orderEvents: [], ledgerEvents: [] });
    expect(w.levels('TEA', 'WH-SH').reserved).toBe(2);
  });

  it('a request without expiry after a reserve-on-placement hold keeps the units for good', () => {
    const w = new World().receive('TEA', 'WH-SH', 5);
    w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }], expiresAt: '2026-05-01T10:30:00.000Z' });
    const paid = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 2 }] });
    expect(paid.outcome).toEqual({ kind: 'already_reserved', expiryCleared: true });
    expect(expireOrder({ orderId: 'o1', at: '2027-01-01T00:00:00.000Z' }, w.order('o1'), w).outcome).toEqual({ kind: 'nothing_to_do' });
  });

  it('rejects malformed requests before looking at stock', () => {
    const w = new World().receive('TEA', 'WH-SH', 5);
    expect(() => w.reserve({ orderId: 'o1', lines: [] })).toThrow(/at least one line/);
    expect(() => w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 0 }] })).toThrow(/positive integer/);
    expect(() => w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 1 }, { lineId: '1', sku: 'TEA', quantity: 1 }] })).toThrow(/appears twice/);
  });

  it('lets backorder SKUs through', () => {
    const w = new World({ TEA: { allowBackorder: true } }).receive('TEA', 'WH-SH', 1);
    const r = w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 4 }] });
    expect(r.outcome.kind).toBe('reserved');
    expect(w.levels('TEA', 'WH-SH')).toEqual({ onHand: 1, reserved: 4, available: 0, backordered: 3 });
  });

  it('never oversells: 200 orders of 1 against 50 units give 50 reserved and 150 shortages', () => {
    const w = new World().receive('HOT', 'WH-SH', 50);
    const kinds = Array.from({ length: 200 }, (_, i) => w.reserve({ orderId: `o${i}`, lines: [{ lineId: '1', sku: 'HOT', quantity: 1 }] }).outcome.kind);
    expect(kinds.filter((k) => k === 'reserved')).toHaveLength(50);
    expect(kinds.filter((k) => k === 'shortage')).toHaveLength(150);
    expect(w.levels('HOT', 'WH-SH')).toEqual({ onHand: 50, reserved: 50, available: 0, backordered: 0 });
  });
});

describe('release, expiry and commit of an order', () => {
  function reservedWorld() {
    const w = new World().receive('TEA', 'WH-SH', 2).receive('TEA', 'WH-GZ', 5);
    w.reserve({ orderId: 'o1', lines: [{ lineId: '1', sku: 'TEA', quantity: 4 }], expiresAt: '2026-05-01T10:30:00.000Z' });
    expect(w.levels('TEA', 'WH-GZ').reserved).toBe(4);
    return w;
  }

  it('releases on cancel, in every ledger the order touched', () => {
    const w = reservedWorld();
    const r = releaseOrder({ orderId: 'o1', reason: 'cancelled', at }, w.order('o1'), w);
    w.apply(r.orderEvents, r.ledgerEvents);
    expect(r.outcome).toMatchObject({ kind: 'released', reason: 'cancelled' });
    expect(w.levels('TEA', 'WH-GZ')).toMatchObject({ reserved: 0, available: 5 });
    expect(releaseOrder({ orderId: 'o1', reason: 'cancelled', at }, w.order('o1'), w).outcome).toEqual({ kind: 'nothing_to_do' });
  });

  it('releases an unpaid hold when its expiry is due', () => {
    const w = reservedWorld();
    expect(expireOrder({ orderId: 'o1', at: '2026-05-01T10:29:00.000Z' }, w.order('o1'), w).outcome).toEqual({ kind: 'nothing_to_do' });
    const r = expireOrder({ orderId: 'o1', at: '2026-05-01T10:30:00.000Z' }, w.order('o1'), w);
    w.apply(r.orderEvents, r.ledgerEvents);
    expect(r.outcome).toMatchObject({ kind: 'released', reason: 'expired' });
    expect(w.levels('TEA', 'WH-GZ').reserved).toBe(0);
  });

  it('commits on shipment: units leave on_hand for good', () => {
    const w = reservedWorld();
    const r = commitOrder({ orderId: 'o1', at }, w.order('o1'), w);
    w.apply(r.orderEvents, r.ledgerEvents);
    expect(r.outcome.kind).toBe('committed');
    expect(w.levels('TEA', 'WH-GZ')).toEqual({ onHand: 1, reserved: 0, available: 1, backordered: 0 });
    expect(commitOrder({ orderId: 'o1', at }, w.order('o1'), w).outcome).toEqual({ kind: 'nothing_to_do' });
  });
});
