/**
 * The pure parts of the fault workload (bench/workloads/faults.ts): its schedule and its verdict.
 */

/** One fault: SIGKILL a service (its supervisor restarts it), or take a dependency away for a while. */
export type Fault = { kind: 'kill'; service: string } | { kind: 'db' | 'kafka'; seconds: number };

/** Default schedule: every service on the order path killed once (order-intake twice), one database outage, one broker outage. */
export const DEFAULT_FAULTS = 'kill:order-intake,kill:inventory,db:8,kill:tracking,kafka:10,kill:fulfillment,kill:notification,kill:order-intake';

/**
 * Parses `kill:<service>`, `db:<seconds>`, `kafka:<seconds>` (comma-separated). Throws on anything
 * else, naming the entry and what is allowed, so a typo never silently drops a fault.
 */
export function parseFaults(spec: string, services: readonly string[]): Fault[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [kind, arg] = entry.split(':');
      if (kind === 'kill' && arg && services.includes(arg)) return { kind, service: arg };
      const seconds = Number(arg);
      if ((kind === 'db' || kind === 'kafka') && Number.isFinite(seconds) && seconds > 0 && seconds <= 120) return { kind, seconds };
      throw new Error(`FAULTS entry ${JSON.stringify(entry)}: expected kill:<${services.join('|')}>, db:<1-120 seconds> or kafka:<1-120 seconds>`);
    });
}

/** When each fault starts (seconds into the load): evenly spread over the middle of the window. */
export function faultTimes(count: number, windowSec: number): number[] {
  if (count === 0) return [];
  const first = windowSec * 0.1;
  const last = windowSec * 0.8;
  return Array.from({ length: count }, (_, i) => Math.round((count === 1 ? first : first + ((last - first) * i) / (count - 1)) * 10) / 10);
}

/** One order the load sent, as the client saw it and as the system shows it at the end. */
export interface FaultOrder {
  sku: string;
  /** Order id of the 201 (undefined: never accepted). */
  orderId?: string;
  /** The payment was accepted. */
  paid: boolean;
  /** Stage in order-intake and in tracking at the last look (undefined: not found). */
  stage?: string;
  trackedStage?: string;
  /** Parcels fulfillment holds for it. */
  shipments?: number;
}

export interface StockLevel {
  onHand: number;
  reserved: number;
}

export interface FaultVerdict {
  accepted: number;
  /** Accepted (201) but not found in order-intake. */
  lost: number;
  /** Not in the stage the stock allows: ready_to_ship while stock lasted, paid (waiting for stock) after. */
  unsettled: number;
  /** Tracking's stage differs from order-intake's. */
  trackingMismatches: number;
  /** Units reserved beyond the stock on hand, over every SKU. */
  oversoldUnits: number;
  /** Units reserved differing from what the settled orders hold (a reservation lost or made twice). */
  reservationDrift: number;
  /** ready_to_ship orders without exactly one parcel. */
  shipmentAnomalies: number;
}

/**
 * The verdict over paid single-unit orders: per SKU, the first `onHand` of its paid orders (any
 * order; the system decides which) hold a unit and are ready_to_ship, the rest wait in paid.
 */
export function judge(orders: readonly FaultOrder[], stock: ReadonlyMap<string, StockLevel>, opening: ReadonlyMap<string, StockLevel>): FaultVerdict {
  const accepted = orders.filter((o) => o.orderId);
  const v: FaultVerdict = { accepted: accepted.length, lost: 0, unsettled: 0, trackingMismatches: 0, oversoldUnits: 0, reservationDrift: 0, shipmentAnomalies: 0 };
  const holding = new Map<string, number>();
  const paidPerSku = new Map<string, number>();
  for (const o of accepted) {
    if (o.stage === undefined) {
      v.lost++;
      continue;
    }
    if (o.trackedStage !== o.stage) v.trackingMismatches++;
    if (o.paid) paidPerSku.set(o.sku, (paidPerSku.get(o.sku) ?? 0) + 1);
    if (o.stage === 'ready_to_ship') {
      holding.set(o.sku, (holding.get(o.sku) ?? 0) + 1);
      if (o.shipments !== 1) v.shipmentAnomalies++;
    }
  }
  for (const [sku, level] of stock) {
    const before = opening.get(sku) ?? { onHand: level.onHand, reserved: 0 };
    const free = before.onHand - before.reserved;
    const paid = paidPerSku.get(sku) ?? 0;
    const held = holding.get(sku) ?? 0;
    v.oversoldUnits += Math.max(0, level.reserved - level.onHand);
    v.reservationDrift += Math.abs(level.reserved - before.reserved - held);
    // Stock lasting: min(paid, free) orders ready, the others still paid.
    v.unsettled += Math.abs(held - Math.min(paid, free));
  }
  for (const o of accepted) {
    if (o.stage === undefined) continue;
    const expected = o.paid ? ['ready_to_ship', 'paid'] : ['placed'];
    if (!expected.includes(o.stage)) v.unsettled++;
  }
  return v;
}

/** True when nothing was lost, oversold, doubled or left behind. */
export function held(v: FaultVerdict): boolean {
  return v.lost === 0 && v.unsettled === 0 && v.trackingMismatches === 0 && v.oversoldUnits === 0 && v.reservationDrift === 0 && v.shipmentAnomalies === 0;
}
