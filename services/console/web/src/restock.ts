/** One order waiting for stock, as tracking lists it (GET /api/tracking/shortages/orders), longest waiting first. */
export interface WaitingOrder {
  orderId: string;
  /** Every short line of the order (it may wait for other SKUs too). */
  missing: { sku: string; requested: number }[];
}

/**
 * Which waiting orders to try to reserve again after a restock (到货重新预占), given the units
 * available now per SKU: in the order given (longest waiting first), each order whose short lines
 * all fit in what is left, counting what the orders before it take. An order that does not fit is
 * passed over, so a large old order does not hold back smaller ones the stock can serve; it keeps
 * waiting for the next restock. A SKU without a figure counts as none available.
 */
export function planRestock(waiting: readonly WaitingOrder[], available: Readonly<Record<string, number>>): string[] {
  const left = new Map(Object.entries(available));
  const chosen: string[] = [];
  for (const order of waiting) {
    const need = new Map<string, number>();
    for (const m of order.missing) need.set(m.sku, (need.get(m.sku) ?? 0) + m.requested);
    if (need.size === 0 || ![...need].every(([sku, n]) => n <= (left.get(sku) ?? 0))) continue;
    for (const [sku, n] of need) left.set(sku, (left.get(sku) ?? 0) - n);
    chosen.push(order.orderId);
  }
  return chosen;
}
