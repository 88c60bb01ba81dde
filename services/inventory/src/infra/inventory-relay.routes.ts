import { contractRegistry, Topics, type InventoryEventDataMap } from '@flowline/contracts';
import type { RecordedEvent } from '@flowline/eventstore';
import type { RelayRoute } from '@flowline/messaging';
import type { LineAllocation, MissingStock, OrderReservationEvent } from '../domain/order-reservation.decider';
import type { StockLedgerEvent } from '../domain/stock-ledger.decider';

type Data<T extends { type: string }> = Omit<T, 'type'>;
type OrderData<K extends OrderReservationEvent['type']> = Data<Extract<OrderReservationEvent, { type: K }>>;
type LedgerData<K extends StockLedgerEvent['type']> = Data<Extract<StockLedgerEvent, { type: K }>>;

/** The topic each type travels on is the contract registry's (the stock facts on inventory.stock.v1, ADR 0023). */
function route<K extends keyof InventoryEventDataMap>(type: K, key: string, data: InventoryEventDataMap[K]): RelayRoute {
  return { topic: contractRegistry.info(type)?.topic ?? Topics.inventoryEvents, key, type, schemaVersion: 1, data };
}

const allocations = (a: LineAllocation[]) => a.map((x) => ({ lineId: x.lineId, sku: x.sku, warehouseId: x.warehouseId, quantity: x.quantity }));
const missing = (m: MissingStock[]) => m.map((x) => ({ sku: x.sku, requested: x.requested, available: x.available, lineIds: x.lineIds }));

/**
 * Maps inventory's stored events to its integration events: reservation outcomes keyed by orderId
 * on `inventory.events.v1`, stock facts (receipts, adjustments, levels, ATP, low stock) keyed by
 * SKU on `inventory.stock.v1`. Ledger line events stay inside.
 */
export function inventoryRelayRoute(e: RecordedEvent): RelayRoute | null {
  switch (e.type) {
    case 'ReservationConfirmed': {
      const d = e.data as OrderData<'ReservationConfirmed'>;
      return route('StockReserved', d.orderId, {
        orderId: d.orderId,
        reservationId: d.reservationId,
        allocations: allocations(d.allocations),
        ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
      });
    }
    case 'ReservationRefused': {
      const d = e.data as OrderData<'ReservationRefused'>;
      return route('StockShortage', d.orderId, { orderId: d.orderId, missing: missing(d.missing) });
    }
    case 'ReservationReleased': {
      const d = e.data as OrderData<'ReservationReleased'>;
      return route('StockReleased', d.orderId, { orderId: d.orderId, reservationId: d.reservationId, reason: d.reason });
    }
    case 'ReservationCommitted': {
      const d = e.data as OrderData<'ReservationCommitted'>;
      return route('StockCommitted', d.orderId, { orderId: d.orderId, reservationId: d.reservationId });
    }
    case 'ReservationLinesReleased': {
      const d = e.data as OrderData<'ReservationLinesReleased'>;
      return route('StockLinesReleased', d.orderId, { orderId: d.orderId, reservationId: d.reservationId, released: allocations(d.released), reason: d.reason });
    }
    case 'StockReceived': {
      const d = e.data as LedgerData<'StockReceived'>;
      return route('StockReceived', d.sku, { sku: d.sku, warehouseId: d.warehouseId, quantity: d.quantity, ...(d.reference ? { reference: d.reference } : {}) });
    }
    case 'StockAdjusted': {
      const d = e.data as LedgerData<'StockAdjusted'>;
      return route('StockAdjusted', d.sku, { sku: d.sku, warehouseId: d.warehouseId, delta: d.delta, reason: d.reason });
    }
    case 'StockLevelChanged': {
      const d = e.data as InventoryEventDataMap['StockLevelChanged'];
      return route('StockLevelChanged', d.sku, d);
    }
    case 'AvailableToPromiseChanged': {
      const d = e.data as InventoryEventDataMap['AvailableToPromiseChanged'];
      return route('AvailableToPromiseChanged', d.sku, d);
    }
    case 'LowStockAlerted': {
      const d = e.data as InventoryEventDataMap['LowStockAlerted'];
      return route('LowStockAlerted', d.sku, d);
    }
    case 'StockWentNegative': {
      const d = e.data as LedgerData<'StockWentNegative'>;
      return route('StockWentNegative', d.orderId, {
        orderId: d.orderId, sku: d.sku, warehouseId: d.warehouseId, onHand: d.onHand, reserved: d.reserved, available: d.available, at: d.at,
      });
    }
    default:
      return null;
  }
}

/** Streams the relay reads (everything inventory writes). */
export const INVENTORY_STREAM_PREFIXES = ['stock-', 'reservation-', 'availability-'];

/**
 * Stored types that become integration events: the relay asks the store for these only, so the
 * ledger's line events (one per reserved line) are never read back.
 */
export const PUBLISHED_STORED_TYPES = [
  'ReservationConfirmed',
  'ReservationRefused',
  'ReservationReleased',
  'ReservationCommitted',
  'ReservationLinesReleased',
  'StockReceived',
  'StockAdjusted',
  'StockLevelChanged',
  'AvailableToPromiseChanged',
  'LowStockAlerted',
  'StockWentNegative',
];
