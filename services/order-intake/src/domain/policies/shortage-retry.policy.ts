import { isExisting, type OrderState } from '../order.state';
import { awaitsStock, ProcessExceptionCode } from './order-process.policy';

/**
 * Orders waiting for stock (缺货) tried again when stock comes in (到货重新预占), pure.
 *
 * An order waits when inventory refused its reservation: it is an exception STOCK_SHORTAGE before
 * reservation. Resolving that exception makes the process manager ask inventory again for every
 * line of the order, so an order is worth retrying only when what inventory has now covers all
 * its lines (not only the short ones). The timer also waits until the stock of a short SKU moved
 * after the refusal (else inventory would refuse the same way, say because the units are spread
 * over warehouses and the SKU ships from one), and backs off an order inventory keeps refusing.
 * A person asking (the console's button after a receipt) skips those two waits.
 */

/** One waiting order, from its stream: what a retry would ask inventory for. */
export interface ShortageCandidate {
  orderId: string;
  /** When the shortage was last reported: stock that moved only before it was already counted. */
  reportedAt: string;
  /** How many times inventory refused it since the order last had stock reserved (1 = once), retries by a person included. */
  refusals: number;
  /** The SKUs inventory could not reserve (still on the order). */
  shortSkus: string[];
  /** Units per SKU of every line: a retry reserves them all. */
  need: Record<string, number>;
}

/** A SKU's stock now, as inventory answers it. */
export interface SkuStockNow {
  /** Units available to reserve, all warehouses together. */
  available: number;
  /** When any of its warehouse rows last changed (ISO), or null when none ever did. */
  changedAt: string | null;
  /** The SKU may be sold beyond its stock: inventory never finds it short. */
  backorder?: boolean;
}

export type WaitReason = 'not_enough_stock' | 'stock_unchanged' | 'unknown_sku' | 'retry_later';

export interface ShortageRetryPlan {
  /** Orders to try again, in the order given (first placed first). */
  retry: string[];
  /** Orders left waiting, each with why. */
  waiting: { orderId: string; reason: WaitReason }[];
}

/**
 * Stock that changed this close before a shortage was reported may have changed after inventory
 * refused (the refusal reaches order-intake later, through Kafka and the process manager).
 */
export const REFUSAL_TO_REPORT_MARGIN_MS = 60_000;

/** The timer's wait after the n-th refusal since the last reservation (n >= 2): 1, 2, 4 ... minutes, at most an hour. */
export function backoffAfter(refusals: number): number {
  return refusals < 2 ? 0 : Math.min(60_000 * 2 ** (refusals - 2), 3_600_000);
}

/** The order as a retry candidate, or null when it is not waiting for stock (or a person must act first). */
export function shortageCandidate(s: OrderState): ShortageCandidate | null {
  if (!isExisting(s) || !awaitsStock(s) || s.reservation || s.hold || s.refund.pending || !s.shortage) return null;
  if (s.exception?.code !== ProcessExceptionCode.StockShortage) return null;
  const need: Record<string, number> = {};
  for (const l of s.order.lines) need[l.sku] = (need[l.sku] ?? 0) + l.quantity;
  // A change may have dropped a short SKU since: the order waits for the ones it still has.
  const shortSkus = [...new Set(s.shortage.missing.map((m) => m.sku))].filter((sku) => need[sku] !== undefined).sort();
  return { orderId: s.orderId, reportedAt: s.shortage.reportedAt, refusals: s.shortage.refusals ?? 1, shortSkus, need };
}

/** The SKUs the order waits for: those it was short of, or every SKU of its lines when a change dropped those. */
export function waitsFor(c: ShortageCandidate): string[] {
  return c.shortSkus.length > 0 ? c.shortSkus : Object.keys(c.need).sort();
}

/** The SKUs a retry of these orders would need figures for. */
export function skusToCheck(candidates: readonly ShortageCandidate[]): string[] {
  return [...new Set(candidates.flatMap((c) => Object.keys(c.need)))].sort();
}

/**
 * Which waiting orders to try again, given the stock now: in the order given, each order whose
 * every SKU is known and covers its units after what the orders before it take (a backorder SKU
 * always does). An order that does not fit is passed over, so a large old order does not hold back
 * smaller ones the stock can serve; it keeps waiting. Unless a person asks (`byPerson`), an order
 * also waits while its short stock has not moved since the refusal, and while it backs off.
 */
export function planShortageRetry(candidates: readonly ShortageCandidate[], stock: ReadonlyMap<string, SkuStockNow>, at: { now: string; byPerson?: boolean }): ShortageRetryPlan {
  const left = new Map([...stock].map(([sku, s]) => [sku, s.available]));
  const plan: ShortageRetryPlan = { retry: [], waiting: [] };
  const nowMs = Date.parse(at.now);
  for (const c of candidates) {
    const skus = Object.keys(c.need);
    const counted = skus.filter((sku) => !stock.get(sku)?.backorder);
    if (skus.some((sku) => !stock.has(sku))) {
      plan.waiting.push({ orderId: c.orderId, reason: 'unknown_sku' });
      continue;
    }
    if (!counted.every((sku) => c.need[sku]! <= (left.get(sku) ?? 0))) {
      plan.waiting.push({ orderId: c.orderId, reason: 'not_enough_stock' });
      continue;
    }
    if (!at.byPerson) {
      const reported = Date.parse(c.reportedAt);
      // A short SKU now sold on backorder counts as moved: inventory no longer finds it short.
      const moved = waitsFor(c).some((sku) => {
        if (stock.get(sku)?.backorder) return true;
        const changed = stock.get(sku)?.changedAt;
        return !!changed && Date.parse(changed) > reported - REFUSAL_TO_REPORT_MARGIN_MS;
      });
      if (!moved) {
        plan.waiting.push({ orderId: c.orderId, reason: 'stock_unchanged' });
        continue;
      }
      if (nowMs - reported < backoffAfter(c.refusals)) {
        plan.waiting.push({ orderId: c.orderId, reason: 'retry_later' });
        continue;
      }
    }
    for (const sku of counted) left.set(sku, (left.get(sku) ?? 0) - c.need[sku]!);
    plan.retry.push(c.orderId);
  }
  return plan;
}
