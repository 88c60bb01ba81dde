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

/** Seconds a fault takes from its start until the system is whole again (a broker needs ~10 s to start). */
export function faultSeconds(f: Fault): number {
  return f.kind === 'kill' ? 0 : f.kind === 'kafka' ? f.seconds + 10 : f.seconds;
}

/**
 * When each fault starts (seconds into the load): one after another between 10% and 80% of the
 * window, each outage's own time (faultSeconds) kept, the rest of that span spread evenly between
 * them. Faults that need more than the span follow each other without a gap.
 */
export function faultTimes(faults: readonly Fault[], windowSec: number): number[] {
  if (faults.length === 0) return [];
  const first = windowSec * 0.1;
  const span = windowSec * 0.7;
  const busy = faults.reduce((n, f) => n + faultSeconds(f), 0);
  const gap = faults.length === 1 ? 0 : Math.max(0, (span - busy) / (faults.length - 1));
  const times: number[] = [];
  let t = first;
  for (const f of faults) {
    times.push(Math.round(t * 10) / 10);
    t += faultSeconds(f) + gap;
  }
  return times;
}

/** One order the load sent, as the client saw it and as the system shows it at the end. */
export interface FaultOrder {
  sku: string;
  /** Order id of the 201 (undefined: never accepted). */
  orderId?: string;
  /** The payment was accepted. */
  paid: boolean;
  /** The client gave up on a request without an answer: paid or not, the system knows. */
  unknown?: boolean;
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
  /** Paid orders in a stage the stock decides (ready_to_ship or paid), per SKU. */
  const waitingOrHolding = new Map<string, number>();
  for (const o of accepted) {
    if (o.stage === undefined) {
      v.lost++;
      continue;
    }
    if (o.trackedStage !== o.stage) v.trackingMismatches++;
    // A paid order is ready_to_ship or waits in paid; an unpaid one stays placed; one whose last
    // request went unanswered may be either.
    const expected = o.unknown ? ['ready_to_ship', 'paid', 'placed'] : o.paid ? ['ready_to_ship', 'paid'] : ['placed'];
    if (!expected.includes(o.stage)) {
      v.unsettled++;
      continue;
    }
    if (o.stage === 'ready_to_ship' || o.stage === 'paid') waitingOrHolding.set(o.sku, (waitingOrHolding.get(o.sku) ?? 0) + 1);
    if (o.stage === 'ready_to_ship') {
      holding.set(o.sku, (holding.get(o.sku) ?? 0) + 1);
      if (o.shipments !== 1) v.shipmentAnomalies++;
    }
  }
  for (const [sku, level] of stock) {
    const before = opening.get(sku) ?? { onHand: level.onHand, reserved: 0 };
    const free = before.onHand - before.reserved;
    const held = holding.get(sku) ?? 0;
    v.oversoldUnits += Math.max(0, level.reserved - level.onHand);
    v.reservationDrift += Math.abs(level.reserved - before.reserved - held);
    // Stock lasting: min(paid, free) of them ready, the others still waiting in paid.
    v.unsettled += Math.abs(held - Math.min(waitingOrHolding.get(sku) ?? 0, free));
  }
  return v;
}

/** True when nothing was lost, oversold, doubled or left behind. */
export function held(v: FaultVerdict): boolean {
  return v.lost === 0 && v.unsettled === 0 && v.trackingMismatches === 0 && v.oversoldUnits === 0 && v.reservationDrift === 0 && v.shipmentAnomalies === 0;
}
