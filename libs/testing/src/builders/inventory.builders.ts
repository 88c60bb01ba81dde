import type { EventEnvelope, InventoryCommandDataMap, InventoryCommandType, ReservationLine } from '@flowline/contracts';

/**
 * Fixture builders for inventory's contract: the commands order-intake sends on
 * `inventory.commands.v1` and their envelopes. Pure; deterministic unless you pass your own ids.
 */

export const INVENTORY_FIXED_NOW = '2025-11-25T08:00:00.000Z';

export function aReservationLine(overrides: Partial<ReservationLine> = {}): ReservationLine {
  return { lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, ...overrides };
}

export function aReserveStock(overrides: Partial<InventoryCommandDataMap['ReserveStock']> = {}): InventoryCommandDataMap['ReserveStock'] {
  return { orderId: '01JDGZ6M3V8Q0000000000ORD1', channel: 'tmall', lines: [aReservationLine()], ...overrides };
}

export function aReleaseStock(overrides: Partial<InventoryCommandDataMap['ReleaseStock']> = {}): InventoryCommandDataMap['ReleaseStock'] {
  return { orderId: '01JDGZ6M3V8Q0000000000ORD1', reason: 'cancelled', ...overrides };
}

export function aCommitStock(overrides: Partial<InventoryCommandDataMap['CommitStock']> = {}): InventoryCommandDataMap['CommitStock'] {
  return { orderId: '01JDGZ6M3V8Q0000000000ORD1', ...overrides };
}

let sequence = 0;

/** The envelope order-intake publishes (key: `data.orderId`). `eventId` defaults to a fresh deterministic id. */
export function inventoryCommandEnvelope<T extends InventoryCommandType>(
  type: T,
  data: InventoryCommandDataMap[T],
  overrides: Partial<EventEnvelope<InventoryCommandDataMap[T], T>> = {},
): EventEnvelope<InventoryCommandDataMap[T], T> {
  sequence++;
  return {
    eventId: `inv-cmd-${String(sequence).padStart(6, '0')}`,
    type,
    schemaVersion: 1,
    streamId: `order-${data.orderId}`,
    streamPosition: 0,
    occurredAt: INVENTORY_FIXED_NOW,
    correlationId: data.orderId,
    causationId: null,
    data,
    ...overrides,
  };
}
