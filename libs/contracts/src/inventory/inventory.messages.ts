/**
 * Inventory's public surface. Commands arrive on `inventory.commands.v1` (key: orderId);
 * events leave on `inventory.events.v1` (reservation outcomes, key: orderId) and `inventory.stock.v1` (stock facts, key: sku; ADR 0023).
 */
export interface ReservationLine {
  lineId: string;
  sku: string;
  quantity: number;
}

export interface InventoryCommandDataMap {
  /**
   * All-or-nothing reservation of every line of an order. `expiresAt` set for reserve-on-placement:
   * the hold is released (StockReleased, reason `expired`) when still unpaid then. Sending
   * ReserveStock again without `expiresAt` for an order that holds its units (it was paid) keeps
   * them for good; a repeat for an order already reserved changes nothing.
   */
  ReserveStock: {
    orderId: string;
    channel: string;
    lines: ReservationLine[];
    expiresAt?: string;
    /** The order's shop (optional, additive): kept on the reservation so shop-limited staff see their shops' (ADR 0018). */
    shopId?: string;
  };
  /** Give the order's reserved units back (cancel, refund before shipment). */
  ReleaseStock: { orderId: string; reason: string };
  /** The order shipped: reserved units leave on_hand for good. */
  CommitStock: { orderId: string };
  /**
   * Give back part of the order's reservation (an approved change removed lines or lowered
   * quantities): per line (`lineId`, else any of the order's lines of `sku`), at most what is held.
   * The rest of the reservation stays; nothing held -> nothing released.
   */
  ReleaseStockLines: { orderId: string; lines: { sku: string; quantity: number; lineId?: string }[]; reason: string };
}

export interface Allocation {
  lineId: string;
  sku: string;
  warehouseId: string;
  quantity: number;
}

export interface InventoryEventDataMap {
  StockReserved: { orderId: string; reservationId: string; allocations: Allocation[]; expiresAt?: string };
  /**
   * Nothing was reserved for the order (all-or-nothing). `requested` sums the order's lines of the
   * SKU; `available` is what all warehouses had; `lineIds` (optional, additive) names those lines.
   */
  StockShortage: { orderId: string; missing: { sku: string; requested: number; available: number; lineIds?: string[] }[] };
  StockReleased: { orderId: string; reservationId: string; reason: 'cancelled' | 'refunded' | 'expired' | string };
  StockCommitted: { orderId: string; reservationId: string };
  /** Part of the order's reservation was given back (ReleaseStockLines); the rest stays reserved. */
  StockLinesReleased: { orderId: string; reservationId: string; released: Allocation[]; reason: string };
  StockReceived: { sku: string; warehouseId: string; quantity: number; reference?: string };
  StockAdjusted: { sku: string; warehouseId: string; delta: number; reason: 'count' | 'damage' | 'return' | string };
  /** Current level of one SKU in one warehouse after any change. */
  StockLevelChanged: { sku: string; warehouseId: string; onHand: number; reserved: number; available: number };
  /** Available-to-promise for one SKU on one channel (what connectors push to the platform). */
  AvailableToPromiseChanged: { sku: string; channel: string; atp: number };
  LowStockAlerted: { sku: string; available: number; threshold: number };
  /**
   * Stock exception (key: orderId): the parcel of `orderId` shipped although its reservation had been
   * released (cancelled/refunded while packed), and the warehouse now holds fewer units than are
   * reserved for other orders. `available` = onHand - reserved, negative; `at` when it shipped.
   */
  StockWentNegative: { orderId: string; sku: string; warehouseId: string; onHand: number; reserved: number; available: number; at: string };
}

export type InventoryCommandType = keyof InventoryCommandDataMap;
export type InventoryEventType = keyof InventoryEventDataMap;

export const INVENTORY_COMMAND_TYPES = ['ReserveStock', 'ReleaseStock', 'CommitStock', 'ReleaseStockLines'] as const satisfies readonly InventoryCommandType[];
export const INVENTORY_EVENT_TYPES = [
  'StockReserved', 'StockShortage', 'StockReleased', 'StockCommitted', 'StockReceived', 'StockAdjusted',
  'StockLevelChanged', 'AvailableToPromiseChanged', 'LowStockAlerted', 'StockLinesReleased', 'StockWentNegative',
] as const satisfies readonly InventoryEventType[];
