import type { EventEnvelope, FulfillmentEventDataMap, InventoryEventDataMap, OrderEventDataMap } from '@flowline/contracts';
import { customerPaidAt, Topics } from '@flowline/contracts';

/**
 * The topics analytics projects from (keyed by order id; the stock facts by SKU). Stock levels are on
 * inventory.stock.v1 since ADR 0023 and on inventory.events.v1 before it: both are read, and a level
 * is kept by its ledger stream revision, not by which topic brought it last.
 */
export const ANALYTICS_TOPICS: string[] = [Topics.orderEvents, Topics.inventoryEvents, Topics.inventoryStock, Topics.fulfillmentEvents];

/** One row change a fact table receives from one event. Pure data: infra/fact-store.ts turns it into SQL. */
export type FactChange =
  | {
      kind: 'order_placed';
      order: {
        orderId: string;
        channel: string;
        channelOrderId: string;
        shopId: string;
        /** The channel's customer id (or the masked nickname as a fallback); never clear PII. */
        customerKey: string;
        province: string;
        placedAt: string;
        currency: string;
        itemsTotal: number;
        shippingFee: number;
        orderDiscount: number;
        grandTotal: number;
      };
      lines: { lineId: string; sku: string; quantity: number; unitPrice: number; lineDiscount: number }[];
    }
  | {
      kind: 'order_changed';
      orderId: string;
      totals: { itemsTotal: number; shippingFee: number; orderDiscount: number; grandTotal: number };
      lines: { lineId: string; sku: string; quantity: number; unitPrice: number; lineDiscount: number }[];
      /** The change's own reservation, when it re-reserved: replaces the order's allocations. */
      allocations: { lineId: string; sku: string; warehouseId: string; quantity: number }[] | null;
    }
  | { kind: 'order_paid'; orderId: string; amount: number; paidAt: string }
  | { kind: 'order_cancelled'; orderId: string; at: string }
  | { kind: 'order_refunded'; eventId: string; orderId: string; amount: number; at: string; afterShipment: boolean }
  | { kind: 'stock_allocated'; orderId: string; allocations: { lineId: string; sku: string; warehouseId: string; quantity: number }[] }
  | {
      kind: 'stock_level';
      sku: string;
      warehouseId: string;
      onHand: number;
      reserved: number;
      available: number;
      /** Revision of the ledger stream (stock-<sku>-<warehouse>) the level was published from: a lower one never replaces a higher one. */
      version: number;
    }
  | { kind: 'shipment_packed'; orderId: string; shipmentId: string; warehouseId: string | null; at: string };

type Data<M, K extends keyof M> = M[K];

/**
 * What an integration event changes in the analytics facts. Events analytics does not need give [].
 * Order facts change only on orders.events.v1 (ordered per order by the partition key), stock levels
 * only on StockLevelChanged (ordered by their ledger stream revision, across the two topics that
 * carried them), shipments only on fulfillment events: the rows a replay produces do not depend on
 * how the topics interleave (docs/adr/0007, 0023).
 */
export function factChanges(e: EventEnvelope): FactChange[] {
  switch (e.type) {
    case 'OrderPlaced': {
      const d = e.data as Data<OrderEventDataMap, 'OrderPlaced'>;
      return [
        {
          kind: 'order_placed',
          order: {
            orderId: d.orderId,
            channel: d.channel,
            channelOrderId: d.channelOrderId,
            shopId: d.shopId,
            customerKey: customerKey(d.channel, d.customer),
            province: d.shippingAddress?.province ?? '',
            placedAt: d.placedAt,
            currency: d.totals.currency,
            itemsTotal: d.totals.itemsTotal,
            shippingFee: d.totals.shippingFee,
            orderDiscount: d.totals.orderDiscount,
            grandTotal: d.totals.grandTotal,
          },
          lines: d.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: l.lineDiscount })),
        },
      ];
    }
    case 'OrderChanged': {
      const d = e.data as Data<OrderEventDataMap, 'OrderChanged'>;
      return [
        {
          kind: 'order_changed',
          orderId: d.orderId,
          totals: { itemsTotal: d.totals.itemsTotal, shippingFee: d.totals.shippingFee, orderDiscount: d.totals.orderDiscount, grandTotal: d.totals.grandTotal },
          lines: d.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: l.lineDiscount })),
          allocations: d.allocations ?? null,
        },
      ];
    }
    case 'OrderPaid': {
      const d = e.data as Data<OrderEventDataMap, 'OrderPaid'>;
      // When the customer paid (an imported order's platform time): the day reconciliation and sales count it on.
      return [{ kind: 'order_paid', orderId: d.orderId, amount: d.amount, paidAt: customerPaidAt(d) }];
    }
    case 'OrderCancelled': {
      const d = e.data as Data<OrderEventDataMap, 'OrderCancelled'>;
      return [{ kind: 'order_cancelled', orderId: d.orderId, at: e.occurredAt }];
    }
    case 'OrderRefunded': {
      const d = e.data as Data<OrderEventDataMap, 'OrderRefunded'>;
      return [{ kind: 'order_refunded', eventId: e.eventId, orderId: d.orderId, amount: d.amount, at: e.occurredAt, afterShipment: d.afterShipment }];
    }
    case 'OrderStockReserved': {
      const d = e.data as Data<OrderEventDataMap, 'OrderStockReserved'>;
      return [{ kind: 'stock_allocated', orderId: d.orderId, allocations: d.allocations }];
    }
    case 'StockLevelChanged': {
      const d = e.data as Data<InventoryEventDataMap, 'StockLevelChanged'>;
      return [{ kind: 'stock_level', sku: d.sku, warehouseId: d.warehouseId, onHand: d.onHand, reserved: d.reserved, available: d.available, version: e.streamPosition }];
    }
    case 'ShipmentPacked': {
      const d = e.data as Data<FulfillmentEventDataMap, 'ShipmentPacked'>;
      return [{ kind: 'shipment_packed', orderId: d.orderId, shipmentId: d.shipmentId, warehouseId: d.warehouseId ?? null, at: e.occurredAt }];
    }
    default:
      return [];
  }
}

/** Whether an event changes any fact (the consumers acknowledge the others without a transaction). */
/** The event types factChanges can turn into facts: the consumer drops every other type on its header. */
export const PROJECTED_TYPES: ReadonlySet<string> = new Set(['OrderPlaced', 'OrderChanged', 'OrderPaid', 'OrderCancelled', 'OrderRefunded', 'OrderStockReserved', 'StockLevelChanged', 'ShipmentPacked']);

export function isProjected(e: EventEnvelope): boolean {
  return factChanges(e).length > 0;
}

/**
 * The key RFM and repeat purchases group by: the channel's customer id, scoped by channel (ids of
 * two platforms may collide). Without one, the masked nickname; never a clear name or phone.
 */
export function customerKey(channel: string, customer: { channelCustomerId?: string; nickname?: string; nameMasked?: string } | undefined): string {
  const id = customer?.channelCustomerId?.trim() || customer?.nickname?.trim() || customer?.nameMasked?.trim() || 'anonymous';
  return `${channel}:${id}`;
}
