import { describe, expect, it } from 'vitest';
import { fold } from '@flowline/domain';
import { deciderSpec } from '@flowline/testing';
import {
  levelsOf,
  MAX_ON_HAND,
  openReservedSum,
  reservedDrift,
  stockLedgerDecider,
  type StockLedgerCommand,
  type StockLedgerEvent,
} from './stock-ledger.decider';

const at = '2026-05-01T10:00:00.000Z';
const ref = { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', at };
const spec = deciderSpec(stockLedgerDecider);
const policy = { safetyStock: 0, allowBackorder: false };

const received = (quantity: number): StockLedgerEvent => ({ type: 'StockReceived', ...ref, quantity });
const reserved = (orderId: string, lineId: string, quantity: number, expiresAt?: string): StockLedgerEvent => ({
  type: 'StockLineReserved',
  ...ref,
  orderId,
  reservationId: `r-${orderId}`,
  lineId,
  quantity,
  ...(expiresAt ? { expiresAt } : {}),
});
const reserve = (orderId: string, lines: { lineId: string; quantity: number }[], extra: Partial<Extract<StockLedgerCommand, { type: 'ReserveLines' }>> = {}): StockLedgerCommand => ({
  type: 'ReserveLines',
  ...ref,
  orderId,
  reservationId: `r-${orderId}`,
  lines,
  policy,
  ...extra,
});

describe('stock ledger: receipts and adjustments', () => {
  it('records a receipt that raises on_hand', () => {
    spec.given([]).when({ type: 'ReceiveStock', ...ref, quantity: 20, reference: 'PO-1' }).then([{ type: 'StockReceived', ...ref, quantity: 20, reference: 'PO-1' }]);
    expect(levelsOf(fold(stockLedgerDecider, [received(20)]))).toEqual({ onHand: 20, reserved: 0, available: 20, backordered: 0 });
  });

  it('refuses a zero or negative or fractional receipt', () => {
    spec.given([]).when({ type: 'ReceiveStock', ...ref, quantity: 0 }).thenThrows({ code: 'INVALID_QUANTITY' });
    spec.given([]).when({ type: 'ReceiveStock', ...ref, quantity: -3 }).thenThrows({ code: 'INVALID_QUANTITY' });
    spec.given([]).when({ type: 'ReceiveStock', ...ref, quantity: 1.5 }).thenThrows({ code: 'INVALID_QUANTITY' });
  });

  it('records adjustments for count, damage and return', () => {
    spec.given([received(10)]).when({ type: 'AdjustStock', ...ref, delta: -2, reason: 'damage', note: 'crushed box' })
      .then([{ type: 'StockAdjusted', ...ref, delta: -2, reason: 'damage', note: 'crushed box' }]);
    spec.given([received(10)]).when({ type: 'AdjustStock', ...ref, delta: 1, reason: 'return' }).then([{ type: 'StockAdjusted', ...ref, delta: 1, reason: 'return' }]);
    spec.given([received(10)]).when({ type: 'AdjustStock', ...ref, delta: -1, reason: 'count' }).then([{ type: 'StockAdjusted', ...ref, delta: -1, reason: 'count' }]);
  });

  it('refuses an adjustment with an unknown reason or a zero delta', () => {
    spec.given([received(10)]).when({ type: 'AdjustStock', ...ref, delta: -1, reason: 'theft' as never }).thenThrows({ code: 'INVALID_REASON' });
    spec.given([received(10)]).when({ type: 'AdjustStock', ...ref, delta: 0, reason: 'count' }).thenThrows({ code: 'INVALID_QUANTITY' });
  });

  it('refuses an adjustment that would make on_hand negative', () => {
    spec.given([received(3)]).when({ type: 'AdjustStock', ...ref, delta: -4, reason: 'count' }).thenThrows({ code: 'NEGATIVE_ON_HAND' });
  });

  it('refuses an adjustment that would take away units promised to orders', () => {
    spec.given([received(5), reserved('o1', 'l1', 4)]).when({ type: 'AdjustStock', ...ref, delta: -2, reason: 'damage' }).thenThrows({ code: 'ADJUSTMENT_BELOW_RESERVED' });
  });
});

describe('stock ledger: reservations', () => {
  it('reserves one event per line and derives reserved and available', () => {
    spec.given([received(10)]).when(reserve('o1', [{ lineId: 'l1', quantity: 3 }, { lineId: 'l2', quantity: 2 }]))
      .then([reserved('o1', 'l1', 3), reserved('o1', 'l2', 2)]);
    const s = fold(stockLedgerDecider, [received(10), reserved('o1', 'l1', 3), reserved('o1', 'l2', 2)]);
    expect(levelsOf(s)).toEqual({ onHand: 10, reserved: 5, available: 5, backordered: 0 });
  });

  it('checks the same SKU on several lines against their sum', () => {
    spec.given([received(5)]).when(reserve('o1', [{ lineId: 'l1', quantity: 3 }, { lineId: 'l2', quantity: 3 }])).thenThrows({ code: 'INSUFFICIENT_STOCK' });
  });

  it('keeps safety stock out of what can be reserved', () => {
    spec.given([received(10)]).when(reserve('o1', [{ lineId: 'l1', quantity: 9 }], { policy: { safetyStock: 2, allowBackorder: false } })).thenThrows({ code: 'INSUFFICIENT_STOCK' });
    spec.given([received(10)]).when(reserve('o1', [{ lineId: 'l1', quantity: 8 }], { policy: { safetyStock: 2, allowBackorder: false } })).then([reserved('o1', 'l1', 8)]);
    expect(levelsOf(fold(stockLedgerDecider, [received(10)]), 2).available).toBe(8);
  });

  it('refuses on an empty ledger', () => {
    spec.given([]).when(reserve('o1', [{ lineId: 'l1', quantity: 1 }])).thenThrows({ code: 'INSUFFICIENT_STOCK' });
  });

  it('lets a backorder SKU reserve beyond on_hand and reports the backorder', () => {
    spec.given([received(2)]).when(reserve('o1', [{ lineId: 'l1', quantity: 5 }], { policy: { safetyStock: 0, allowBackorder: true } })).then([reserved('o1', 'l1', 5)]);
    expect(levelsOf(fold(stockLedgerDecider, [received(2), reserved('o1', 'l1', 5)]))).toEqual({ onHand: 2, reserved: 5, available: 0, backordered: 3 });
  });

  it('carries the expiry of a reserve-on-placement hold', () => {
    const expiresAt = '2026-05-01T10:30:00.000Z';
    spec.given([received(5)]).when(reserve('o1', [{ lineId: 'l1', quantity: 1 }], { expiresAt })).then([reserved('o1', 'l1', 1, expiresAt)]);
  });

  it('refuses to reserve the same line of an order twice', () => {
    spec.given([received(5), reserved('o1', 'l1', 1)]).when(reserve('o1', [{ lineId: 'l1', quantity: 1 }])).thenThrows({ code: 'LINE_ALREADY_RESERVED' });
  });

  it('refuses zero quantities and empty reservations', () => {
    spec.given([received(5)]).when(reserve('o1', [{ lineId: 'l1', quantity: 0 }])).thenThrows({ code: 'INVALID_QUANTITY' });
    spec.given([received(5)]).when(reserve('o1', [])).thenThrows({ code: 'NO_LINES' });
  });
});

describe('stock ledger: release and commit', () => {
  const history = [received(10), reserved('o1', 'l1', 3), reserved('o1', 'l2', 2), reserved('o2', 'l1', 1)];

  it('releases every open line of the order with the reason', () => {
    spec.given(history).when({ type: 'ReleaseOrder', ...ref, orderId: 'o1', reason: 'cancelled' }).then([
      { type: 'StockLineReleased', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 3, reason: 'cancelled' },
      { type: 'StockLineReleased', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l2', quantity: 2, reason: 'cancelled' },
    ]);
  });

  it('a shipment after the release takes the released units off on_hand (available may go negative); reserved untouched', () => {
    const released = stockLedgerDecider.decide({ type: 'ReleaseOrder', ...ref, orderId: 'o1', reason: 'cancelled' }, fold(stockLedgerDecider, history));
    const shipped = stockLedgerDecider.decide(
      { type: 'ShipReleasedLines', ...ref, orderId: 'o1', reservationId: 'r-o1', lines: [{ lineId: 'l1', quantity: 3 }, { lineId: 'l2', quantity: 2 }] },
      fold(stockLedgerDecider, [...history, ...released]),
    );
    expect(shipped).toEqual([
      { type: 'StockShippedAfterRelease', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 3 },
      { type: 'StockShippedAfterRelease', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l2', quantity: 2 },
    ]);
    expect(levelsOf(fold(stockLedgerDecider, [...history, ...released, ...shipped]))).toEqual({ onHand: 5, reserved: 1, available: 4, backordered: 0 });
  });

  it('a shipment after the release that leaves fewer units than others reserved raises StockWentNegative (available below zero)', () => {
    // 3 on hand: o1 reserved 3, was released (cancelled while packed), o2 then reserved the 3, and o1's parcel ships anyway.
    const given = [
      received(3),
      reserved('o1', 'l1', 3),
      { type: 'StockLineReleased', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 3, reason: 'cancelled' } as StockLedgerEvent,
      reserved('o2', 'l1', 3),
    ];
    const ship: StockLedgerCommand = { type: 'ShipReleasedLines', ...ref, orderId: 'o1', reservationId: 'r-o1', lines: [{ lineId: 'l1', quantity: 3 }] };
    spec.given(given).when(ship).then([
      { type: 'StockShippedAfterRelease', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 3 },
      { type: 'StockWentNegative', ...ref, orderId: 'o1', onHand: 0, reserved: 3, available: -3 },
    ]);
    const after = fold(stockLedgerDecider, [...given, ...stockLedgerDecider.decide(ship, fold(stockLedgerDecider, given))]);
    expect(levelsOf(after)).toEqual({ onHand: 0, reserved: 3, available: 0, backordered: 3 });
    expect(reservedDrift(after)).toBe(0);
  });

  it('a shipment after the release that stays covered raises no stock exception', () => {
    spec.given([received(5), reserved('o2', 'l1', 2)]).when({ type: 'ShipReleasedLines', ...ref, orderId: 'o1', reservationId: 'r-o1', lines: [{ lineId: 'l1', quantity: 3 }] }).then([
      { type: 'StockShippedAfterRelease', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 3 },
    ]);
  });

  it('releasing an order with nothing open changes nothing', () => {
    spec.given(history).when({ type: 'ReleaseOrder', ...ref, orderId: 'o9', reason: 'cancelled' }).then([]);
  });

  it('commits on shipment: on_hand and reserved both drop', () => {
    const events = stockLedgerDecider.decide({ type: 'CommitOrder', ...ref, orderId: 'o1' }, fold(stockLedgerDecider, history));
    expect(events.map((e) => e.type)).toEqual(['StockLineCommitted', 'StockLineCommitted']);
    const after = fold(stockLedgerDecider, [...history, ...events]);
    expect(levelsOf(after)).toEqual({ onHand: 5, reserved: 1, available: 4, backordered: 0 });
    spec.given([...history, ...events]).when({ type: 'CommitOrder', ...ref, orderId: 'o1' }).then([]);
  });

  it('keeps reserved equal to the sum of open reservations through every change', () => {
    const released = stockLedgerDecider.decide({ type: 'ReleaseOrder', ...ref, orderId: 'o2', reason: 'refunded' }, fold(stockLedgerDecider, history));
    const s = fold(stockLedgerDecider, [...history, ...released]);
    expect(s.status === 'active' && s.reserved).toBe(5);
    expect(openReservedSum(s)).toBe(5);
    expect(reservedDrift(s)).toBe(0);
  });
});

describe('stock ledger: import and repair', () => {
  const imported: StockLedgerEvent = {
    type: 'StockImported',
    ...ref,
    onHand: 40,
    reserved: 7,
    source: 'legacy-erp',
    reservations: [{ orderId: 'old-1', reservationId: 'imp-old-1', lineId: '1', quantity: 4 }],
  };

  it('opens a ledger from imported balances, drift and all', () => {
    const s = fold(stockLedgerDecider, [imported]);
    expect(levelsOf(s)).toEqual({ onHand: 40, reserved: 7, available: 33, backordered: 0 });
    expect(reservedDrift(s)).toBe(3);
  });

  it('refuses a receipt, adjustment or import that would take a ledger past MAX_ON_HAND (422, not a database overflow)', () => {
    spec.given([received(MAX_ON_HAND - 1)]).when({ type: 'ReceiveStock', ...ref, quantity: 2 }).thenThrows({ code: 'ON_HAND_LIMIT' });
    spec.given([received(MAX_ON_HAND - 1)]).when({ type: 'AdjustStock', ...ref, delta: 2, reason: 'count' }).thenThrows({ code: 'ON_HAND_LIMIT' });
    spec.given([]).when({ type: 'ImportStock', ...ref, onHand: MAX_ON_HAND + 1, reserved: 0, reservations: [], source: 'x' }).thenThrows({ code: 'ON_HAND_LIMIT' });
    spec.given([received(MAX_ON_HAND - 1)]).when({ type: 'ReceiveStock', ...ref, quantity: 1 }).then([{ type: 'StockReceived', ...ref, quantity: 1 }]);
  });

  it('refuses an import listing one order line twice (it would stay locked after the order released it)', () => {
    const line = { orderId: 'old-1', reservationId: 'imp-old-1', lineId: '1', quantity: 1 };
    spec.given([]).when({ type: 'ImportStock', ...ref, onHand: 5, reserved: 2, reservations: [line, line], source: 'x' }).thenThrows({ code: 'IMPORT_DUPLICATE_RESERVATION' });
  });

  it('refuses to import over a ledger that has history', () => {
    spec.given([received(1)]).when({ type: 'ImportStock', ...ref, onHand: 1, reserved: 0, reservations: [], source: 'x' }).thenThrows({ code: 'LEDGER_NOT_EMPTY' });
  });

  it('recounts reserved to the sum of open reservations', () => {
    spec.given([imported]).when({ type: 'RecountReserved', ...ref }).then([{ type: 'ReservedRecounted', ...ref, previous: 7, corrected: 4 }]);
    const s = fold(stockLedgerDecider, [imported, { type: 'ReservedRecounted', ...ref, previous: 7, corrected: 4 }]);
    expect(reservedDrift(s)).toBe(0);
  });

  it('does nothing on a consistent ledger', () => {
    spec.given([received(3), reserved('o1', 'l1', 1)]).when({ type: 'RecountReserved', ...ref }).then([]);
  });
});

describe('stock ledger: partial release of an order line', () => {
  it('releases part of an open line; the rest stays reserved and is committed later', () => {
    const given = [received(10), reserved('o1', 'l1', 3), reserved('o1', 'l2', 1)];
    const release = { type: 'StockLineReleased' as const, ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 2, reason: 'order changed' };
    spec.given(given).when({ type: 'ReleaseLines', ...ref, orderId: 'o1', lines: [{ lineId: 'l1', quantity: 2 }], reason: 'order changed' }).then([release]);
    const after = fold(stockLedgerDecider, [...given, release]);
    expect(levelsOf(after, 0)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
    spec
      .given([...given, release])
      .when({ type: 'CommitOrder', ...ref, orderId: 'o1' })
      .then([
        { type: 'StockLineCommitted', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 1 },
        { type: 'StockLineCommitted', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l2', quantity: 1 },
      ]);
  });

  it('never releases more than the line holds, and nothing for a line not open here', () => {
    const given = [received(10), reserved('o1', 'l1', 3)];
    spec
      .given(given)
      .when({ type: 'ReleaseLines', ...ref, orderId: 'o1', lines: [{ lineId: 'l1', quantity: 5 }, { lineId: 'l9', quantity: 1 }], reason: 'order changed' })
      .then([{ type: 'StockLineReleased', ...ref, orderId: 'o1', reservationId: 'r-o1', lineId: 'l1', quantity: 3, reason: 'order changed' }]);
  });
});
