import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@flowline/eventstore';
import { inventoryRelayRoute } from './inventory-relay.routes';

const recorded = (type: string, data: unknown): RecordedEvent => ({
  eventId: 'e1',
  type,
  schemaVersion: 1,
  streamId: 's',
  streamPosition: 0,
  position: { commit: 1n, prepare: 1n },
  data,
  metadata: { correlationId: 'c', causationId: null, occurredAt: '2025-11-25T08:00:00.000Z' },
});
const at = '2025-11-25T08:00:00.000Z';

describe('inventory relay routes: stored events -> inventory.events.v1 and inventory.stock.v1', () => {
  it('publishes reservation outcomes keyed by order id in the contract shape', () => {
    const allocations = [{ lineId: 'L1', sku: 'TEA', warehouseId: 'WH-SH', quantity: 2 }];
    expect(inventoryRelayRoute(recorded('ReservationConfirmed', { orderId: 'o1', at, reservationId: 'r1', channel: 'tmall', allocations }))).toEqual({
      topic: 'inventory.events.v1',
      key: 'o1',
      type: 'StockReserved',
      schemaVersion: 1,
      data: { orderId: 'o1', reservationId: 'r1', allocations },
    });
    expect(inventoryRelayRoute(recorded('ReservationRefused', { orderId: 'o2', at, missing: [{ sku: 'TEA', requested: 3, available: 1, lineIds: ['L1'] }] }))).toMatchObject({
      key: 'o2',
      type: 'StockShortage',
      data: { orderId: 'o2', missing: [{ sku: 'TEA', requested: 3, available: 1, lineIds: ['L1'] }] },
    });
    expect(inventoryRelayRoute(recorded('ReservationReleased', { orderId: 'o1', at, reservationId: 'r1', allocations, reason: 'expired' }))?.data).toEqual({
      orderId: 'o1',
      reservationId: 'r1',
      reason: 'expired',
    });
    expect(inventoryRelayRoute(recorded('ReservationCommitted', { orderId: 'o1', at, reservationId: 'r1', allocations }))).toMatchObject({ type: 'StockCommitted', key: 'o1' });
  });

  it('publishes receipts, adjustments, levels, ATP and alerts keyed by SKU on inventory.stock.v1 (ADR 0023)', () => {
    expect(inventoryRelayRoute(recorded('StockReceived', { sku: 'TEA', warehouseId: 'WH-SH', at, quantity: 5 }))).toMatchObject({
      topic: 'inventory.stock.v1',
      key: 'TEA',
      data: { sku: 'TEA', warehouseId: 'WH-SH', quantity: 5 },
    });
    expect(inventoryRelayRoute(recorded('AvailableToPromiseChanged', { sku: 'TEA', channel: 'jd', atp: 3 }))).toMatchObject({ topic: 'inventory.stock.v1', key: 'TEA', type: 'AvailableToPromiseChanged' });
    expect(inventoryRelayRoute(recorded('LowStockAlerted', { sku: 'TEA', available: 1, threshold: 5 }))).toMatchObject({ topic: 'inventory.stock.v1', key: 'TEA' });
    expect(inventoryRelayRoute(recorded('StockLevelChanged', { sku: 'TEA', warehouseId: 'WH-SH', onHand: 5, reserved: 1, available: 4 }))).toMatchObject({ topic: 'inventory.stock.v1', key: 'TEA' });
    expect(inventoryRelayRoute(recorded('StockAdjusted', { sku: 'TEA', warehouseId: 'WH-SH', at, delta: -1, reason: 'count' }))).toMatchObject({ topic: 'inventory.stock.v1', key: 'TEA' });
    // A stock exception names the order whose parcel shipped: with the reservation outcomes.
    expect(inventoryRelayRoute(recorded('StockWentNegative', { orderId: 'o9', sku: 'TEA', warehouseId: 'WH-SH', onHand: 0, reserved: 2, available: -2, at }))).toMatchObject({ topic: 'inventory.events.v1', key: 'o9' });
  });

  it('keeps ledger line events and expiry clearing inside the service', () => {
    for (const t of ['StockLineReserved', 'StockLineReleased', 'StockLineCommitted', 'StockImported', 'ReservedRecounted', 'ReservationExpiryCleared']) {
      expect(inventoryRelayRoute(recorded(t, {}))).toBeNull();
    }
  });
});
