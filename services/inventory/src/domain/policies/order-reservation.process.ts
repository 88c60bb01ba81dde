import { DomainError, isDomainError } from '@flowline/domain';
import {
  orderReservationDecider,
  type LineAllocation,
  type MissingStock,
  type OrderReservationEvent,
  type OrderReservationState,
  type ReleaseLineRequest,
} from '../order-reservation.decider';
import {
  isPositiveInteger,
  ledgerKey,
  levelsOf,
  stockLedgerDecider,
  type ReleaseReason,
  type StockLedgerEvent,
  type StockLedgerState,
  type StockPolicy,
} from '../stock-ledger.decider';
import { missingAcrossWarehouses, type AllocationInput, type RequestedLine, type WarehouseAllocationStrategy, type WarehouseRef } from './warehouse-allocation.policy';

/**
 * The reservation process of one order, pure: plan with the allocation strategy, reserve in every
 * ledger the plan touches, and if one ledger refuses (its stock went between the check and the
 * reservation), compensate the ledgers already reserved and re-plan once against what is really there.
 * All-or-nothing: the outcome is either every line reserved or a shortage with nothing held.
 */

export interface LedgerAccess {
  /** Current state of a ledger (at least its levels and the open lines of the orders in hand). */
  ledger(sku: string, warehouseId: string): StockLedgerState;
  /** Per-SKU rules: safety stock per warehouse and backorders. */
  policy(sku: string): StockPolicy;
  warehouses: readonly WarehouseRef[];
}

export interface ReserveOrderRequest {
  orderId: string;
  reservationId: string;
  channel: string;
  lines: RequestedLine[];
  /** Reserve-on-placement: release when still unpaid at this time. Absent: hold until release or commit. */
  expiresAt?: string;
  at: string;
}

export type ReserveOutcome =
  | { kind: 'reserved'; allocations: LineAllocation[] }
  | { kind: 'shortage'; missing: MissingStock[] }
  /** The order already holds its units (a repeated request): nothing changes, or only the expiry is cleared. */
  | { kind: 'already_reserved'; expiryCleared: boolean }
  | { kind: 'already_committed' };

export interface ProcessResult<O> {
  outcome: O;
  /** Events for `reservation-<orderId>`. */
  orderEvents: OrderReservationEvent[];
  /** Events for the `stock-<sku>@<warehouse>` ledgers, in the order they were decided. */
  ledgerEvents: StockLedgerEvent[];
}

/** Rejects malformed requests before any stock is looked at. */
export function validateReserveRequest(request: ReserveOrderRequest): void {
  if (request.lines.length === 0) throw new DomainError('NO_LINES', `order ${request.orderId}: a reservation needs at least one line`, {}, 'invalid');
  const seen = new Set<string>();
  for (const l of request.lines) {
    if (!isPositiveInteger(l.quantity)) {
      throw new DomainError('INVALID_QUANTITY', `order ${request.orderId} line ${l.lineId}: quantity must be a positive integer, got ${l.quantity}`, { lineId: l.lineId }, 'invalid');
    }
    if (!l.sku) throw new DomainError('INVALID_SKU', `order ${request.orderId} line ${l.lineId}: sku is empty`, { lineId: l.lineId }, 'invalid');
    if (seen.has(l.lineId)) throw new DomainError('DUPLICATE_LINE', `order ${request.orderId}: line ${l.lineId} appears twice`, { lineId: l.lineId }, 'invalid');
    seen.add(l.lineId);
  }
}

/** Ledgers as they stand after the events decided so far in this process. */
class TentativeLedgers {
  private readonly changed = new Map<string, StockLedgerState>();
  constructor(private readonly base: LedgerAccess) {}
  get(sku: string, warehouseId: string): StockLedgerState {
    return this.changed.get(ledgerKey(sku, warehouseId)) ?? this.base.ledger(sku, warehouseId);
  }
  apply(events: StockLedgerEvent[]): void {
    for (const e of events) this.changed.set(ledgerKey(e.sku, e.warehouseId), stockLedgerDecider.evolve(this.get(e.sku, e.warehouseId), e));
  }
}

function allocationInput(lines: RequestedLine[], access: LedgerAccess, view: (sku: string, wh: string) => StockLedgerState): AllocationInput {
  return {
    lines,
    warehouses: access.warehouses,
    available: (sku, wh) => levelsOf(view(sku, wh), access.policy(sku).safetyStock).available,
    allowBackorder: (sku) => access.policy(sku).allowBackorder,
  };
}

function groupByLedger(allocations: LineAllocation[]): Map<string, LineAllocation[]> {
  const groups = new Map<string, LineAllocation[]>();
  for (const a of allocations) {
    const k = ledgerKey(a.sku, a.warehouseId);
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  // Sorted, so every process touches ledgers in the same order.
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Reserves every line of an order or none.
 * @param checkView what the plan is made against; defaults to the ledgers themselves. A caller that
 *   plans against a read model passes it here, and the ledgers stay the authority.
 */
export function reserveOrder(
  request: ReserveOrderRequest,
  order: OrderReservationState,
  access: LedgerAccess,
  strategy: WarehouseAllocationStrategy,
  checkView?: (sku: string, warehouseId: string) => StockLedgerState,
): ProcessResult<ReserveOutcome> {
  validateReserveRequest(request);
  const base = { orderId: request.orderId, at: request.at };
  if (order.status === 'committed') return { outcome: { kind: 'already_committed' }, orderEvents: [], ledgerEvents: [] };
  if (order.status === 'reserved') {
    // Paid after reserve-on-placement: the request without expiry keeps the units for good.
    const orderEvents = request.expiresAt ? [] : orderReservationDecider.decide({ type: 'ClearReservationExpiry', ...base }, order);
    return { outcome: { kind: 'already_reserved', expiryCleared: orderEvents.length > 0 }, orderEvents, ledgerEvents: [] };
  }

  const ledgers = new TentativeLedgers(access);
  const ledgerEvents: StockLedgerEvent[] = [];
  const actual = (sku: string, wh: string) => ledgers.get(sku, wh);

  const attempt = (view: (sku: string, wh: string) => StockLedgerState): { ok: true; allocations: LineAllocation[] } | { ok: false; missing: MissingStock[] } => {
    const plan = strategy.allocate(allocationInput(request.lines, access, view));
    if (plan.kind === 'shortage') return { ok: false, missing: plan.missing };
    const reservedIn: { sku: string; warehouseId: string }[] = [];
    for (const [, group] of groupByLedger(plan.allocations)) {
      const { sku, warehouseId } = group[0];
      try {
        const events = stockLedgerDecider.decide(
          {
            type: 'ReserveLines',
            sku,
            warehouseId,
            at: request.at,
            orderId: request.orderId,
            reservationId: request.reservationId,
            lines: group.map((a) => ({ lineId: a.lineId, quantity: a.quantity })),
            ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
            policy: access.policy(sku),
          },
          ledgers.get(sku, warehouseId),
        );
        ledgers.apply(events);
        ledgerEvents.push(...events);
        reservedIn.push({ sku, warehouseId });
      } catch (e) {
        if (!isDomainError(e) || e.code !== 'INSUFFICIENT_STOCK') throw e;
        // Partial success: give back what this attempt took, then report what is really there.
        for (const r of reservedIn) {
          const released = stockLedgerDecider.decide(
            { type: 'ReleaseOrder', sku: r.sku, warehouseId: r.warehouseId, at: request.at, orderId: request.orderId, reason: 'compensation' },
            ledgers.get(r.sku, r.warehouseId),
          );
          ledgers.apply(released);
          ledgerEvents.push(...released);
        }
        return { ok: false, missing: missingAcrossWarehouses(allocationInput(request.lines, access, actual)) };
      }
    }
    return { ok: true, allocations: plan.allocations };
  };

  let result = attempt(checkView ?? actual);
  // The check was made against a view that may be stale: plan once more against the ledgers themselves.
  if (!result.ok && checkView) result = attempt(actual);

  if (!result.ok) {
    const missing = result.missing.length > 0 ? result.missing : missingAcrossWarehouses(allocationInput(request.lines, access, actual));
    const orderEvents = orderReservationDecider.decide({ type: 'RefuseReservation', ...base, missing }, order);
    return { outcome: { kind: 'shortage', missing }, orderEvents, ledgerEvents };
  }
  const orderEvents = orderReservationDecider.decide(
    {
      type: 'ConfirmReservation',
      ...base,
      reservationId: request.reservationId,
      channel: request.channel,
      allocations: result.allocations,
      ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
    },
    order,
  );
  return { outcome: { kind: 'reserved', allocations: result.allocations }, orderEvents, ledgerEvents };
}

function distinctLedgers(allocations: LineAllocation[]): { sku: string; warehouseId: string }[] {
  return [...groupByLedger(allocations).values()].map((g) => ({ sku: g[0].sku, warehouseId: g[0].warehouseId }));
}

export type EndOutcome = { kind: 'released' | 'committed'; allocations: LineAllocation[]; reason?: ReleaseReason; afterRelease?: true } | { kind: 'nothing_to_do' };

function endReservation(
  orderEvents: OrderReservationEvent[],
  access: LedgerAccess,
  toLedger: (ledger: { sku: string; warehouseId: string }, ended: Extract<OrderReservationEvent, { type: 'ReservationReleased' | 'ReservationCommitted' }>) => Parameters<typeof stockLedgerDecider.decide>[0],
): ProcessResult<EndOutcome> {
  const ended = orderEvents.find((e) => e.type === 'ReservationReleased' || e.type === 'ReservationCommitted');
  if (!ended || (ended.type !== 'ReservationReleased' && ended.type !== 'ReservationCommitted')) {
    return { outcome: { kind: 'nothing_to_do' }, orderEvents, ledgerEvents: [] };
  }
  const ledgerEvents: StockLedgerEvent[] = [];
  for (const l of distinctLedgers(ended.allocations)) {
    ledgerEvents.push(...stockLedgerDecider.decide(toLedger(l, ended), access.ledger(l.sku, l.warehouseId)));
  }
  return ended.type === 'ReservationReleased'
    ? { outcome: { kind: 'released', allocations: ended.allocations, reason: ended.reason }, orderEvents, ledgerEvents }
    : { outcome: { kind: 'committed', allocations: ended.allocations, ...(ended.afterRelease ? { afterRelease: true as const } : {}) }, orderEvents, ledgerEvents };
}

/** Cancel or refund before shipment: the order's units go back to available. Releasing twice does nothing. */
export function releaseOrder(request: { orderId: string; reason: ReleaseReason; at: string }, order: OrderReservationState, access: LedgerAccess): ProcessResult<EndOutcome> {
  const orderEvents = orderReservationDecider.decide({ type: 'ReleaseReservation', orderId: request.orderId, reason: request.reason, at: request.at }, order);
  return endReservation(orderEvents, access, (l) => ({ type: 'ReleaseOrder', ...l, orderId: request.orderId, reason: request.reason, at: request.at }));
}

/**
 * An approved order change removed lines or lowered quantities: those units go back to available,
 * the rest of the order's reservation stays. Nothing held -> nothing released.
 */
export function releaseOrderLines(
  request: { orderId: string; lines: ReleaseLineRequest[]; reason: ReleaseReason; at: string },
  order: OrderReservationState,
  access: LedgerAccess,
): ProcessResult<PartialReleaseOutcome> {
  const orderEvents = orderReservationDecider.decide({ type: 'ReleaseReservationLines', orderId: request.orderId, lines: request.lines, reason: request.reason, at: request.at }, order);
  const released = orderEvents.find((e) => e.type === 'ReservationLinesReleased');
  if (!released || released.type !== 'ReservationLinesReleased') return { outcome: { kind: 'nothing_to_do' }, orderEvents, ledgerEvents: [] };
  const ledgerEvents: StockLedgerEvent[] = [];
  for (const [, group] of groupByLedger(released.released)) {
    const { sku, warehouseId } = group[0];
    ledgerEvents.push(
      ...stockLedgerDecider.decide(
        { type: 'ReleaseLines', sku, warehouseId, orderId: request.orderId, lines: group.map((a) => ({ lineId: a.lineId, quantity: a.quantity })), reason: request.reason, at: request.at },
        access.ledger(sku, warehouseId),
      ),
    );
  }
  return { outcome: { kind: 'lines_released', released: released.released }, orderEvents, ledgerEvents };
}

export type PartialReleaseOutcome = { kind: 'lines_released'; released: LineAllocation[] } | { kind: 'nothing_to_do' };

/** An unpaid reserve-on-placement order whose expiry is due at `at` gives its units back. */
export function expireOrder(request: { orderId: string; at: string }, order: OrderReservationState, access: LedgerAccess): ProcessResult<EndOutcome> {
  const orderEvents = orderReservationDecider.decide({ type: 'ExpireReservation', orderId: request.orderId, at: request.at }, order);
  return endReservation(orderEvents, access, (l) => ({ type: 'ReleaseOrder', ...l, orderId: request.orderId, reason: 'expired', at: request.at }));
}

/**
 * Shipment: the reserved units leave on_hand for good. Committing twice does nothing. A shipment of
 * an order whose reservation was released (cancelled/refunded while packed, shipped anyway) takes
 * the released units off on_hand too (StockShippedAfterRelease): available may go negative.
 */
export function commitOrder(request: { orderId: string; at: string }, order: OrderReservationState, access: LedgerAccess): ProcessResult<EndOutcome> {
  const orderEvents = orderReservationDecider.decide({ type: 'CommitReservation', orderId: request.orderId, at: request.at }, order);
  return endReservation(orderEvents, access, (l, ended) =>
    ended.type === 'ReservationCommitted' && ended.afterRelease
      ? {
          type: 'ShipReleasedLines',
          ...l,
          orderId: request.orderId,
          reservationId: ended.reservationId,
          lines: ended.allocations.filter((a) => a.sku === l.sku && a.warehouseId === l.warehouseId).map((a) => ({ lineId: a.lineId, quantity: a.quantity })),
          at: request.at,
        }
      : { type: 'CommitOrder', ...l, orderId: request.orderId, at: request.at },
  );
}
