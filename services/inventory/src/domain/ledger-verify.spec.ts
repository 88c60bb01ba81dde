import { describe, expect, it } from 'vitest';
import { fold } from '@flowline/domain';
import { checkLedger } from './ledger-verify';
import { stockLedgerDecider } from './stock-ledger.decider';

const ref = { sku: 'TEA', warehouseId: 'WH-SH', at: '2026-05-01T10:00:00.000Z' };

describe('ledger verify', () => {
  it('is clean when reserved equals the open reservations and the row matches the events', () => {
    const ledger = fold(stockLedgerDecider, [
      { type: 'StockReceived', ...ref, quantity: 5 },
      { type: 'StockLineReserved', ...ref, orderId: 'o1', reservationId: 'r1', lineId: '1', quantity: 2 },
    ]);
    expect(checkLedger({ sku: 'TEA', warehouseId: 'WH-SH', row: { onHand: 5, reserved: 2 }, openReservationsSum: 2, allowBackorder: false, ledger })).toBeUndefined();
  });

  it('reports drift between reserved and the sum of open reservations', () => {
    expect(checkLedger({ sku: 'TEA', warehouseId: 'WH-SH', row: { onHand: 5, reserved: 3 }, openReservationsSum: 2, allowBackorder: false })).toEqual({
      sku: 'TEA',
      warehouseId: 'WH-SH',
      onHand: 5,
      reserved: 3,
      openReservationsSum: 2,
      drift: 1,
      problems: ['reserved 3 differs from the sum of open reservations 2'],
    });
  });

  it('reports oversell and a row that disagrees with the events', () => {
    const ledger = fold(stockLedgerDecider, [{ type: 'StockReceived', ...ref, quantity: 5 }]);
    const d = checkLedger({ sku: 'TEA', warehouseId: 'WH-SH', row: { onHand: 4, reserved: 6 }, openReservationsSum: 6, allowBackorder: false, ledger });
    expect(d?.problems).toEqual([
      'reserved 6 exceeds on_hand 4 (oversold)',
      'ledger events give on_hand 5, stock row has 4',
      'ledger events give reserved 0, stock row has 6',
      'ledger events hold 0 units in open reservations, reservation table 6',
    ]);
  });

  it('accepts reserved above on_hand while the ledger holds a stock exception (shipped after release), not otherwise', () => {
    expect(checkLedger({ sku: 'TEA', warehouseId: 'WH-SH', row: { onHand: 0, reserved: 3 }, openReservationsSum: 3, allowBackorder: false, stockException: true })).toBeUndefined();
    expect(checkLedger({ sku: 'TEA', warehouseId: 'WH-SH', row: { onHand: 0, reserved: 3 }, openReservationsSum: 3, allowBackorder: false })?.problems).toEqual(['reserved 3 exceeds on_hand 0 (oversold)']);
  });

  it('accepts reserved above on_hand for a backorder SKU', () => {
    expect(checkLedger({ sku: 'TEA', warehouseId: 'WH-SH', row: { onHand: 1, reserved: 3 }, openReservationsSum: 3, allowBackorder: true })).toBeUndefined();
  });
});
