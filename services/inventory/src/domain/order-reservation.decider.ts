import { DomainError, assertNever, type Decider } from '@flowline/domain';
import type { ReleaseReason } from './stock-ledger.decider';
import { isDue } from './policies/reservation-expiry.policy';

/**
 * The reservation of one order (stream `reservation-<orderId>`): the order-level outcome of an
 * all-or-nothing reservation across lines and warehouses. It makes a repeated request for the same
 * order apply once, and it remembers where the units were taken from so release and commit know
 * which ledgers to touch.
 */

/** Units of one order line taken from one warehouse. A line split across warehouses has several. */
export interface LineAllocation {
  lineId: string;
  sku: string;
  warehouseId: string;
  quantity: number;
}

/** What one SKU of a refused order misses. */
export interface MissingStock {
  sku: string;
  /** Sum over the order's lines of this SKU. */
  requested: number;
  /** Available over all warehouses when the order was checked. */
  available: number;
  /** Lines of the order that carry this SKU. */
  lineIds: string[];
}

export type OrderReservationState =
  | { status: 'none' }
  | { status: 'reserved'; reservationId: string; channel: string; allocations: LineAllocation[]; expiresAt?: string }
  | { status: 'refused'; missing: MissingStock[] }
  | { status: 'released'; reservationId: string; allocations: LineAllocation[]; reason: ReleaseReason }
  | { status: 'committed'; reservationId: string; allocations: LineAllocation[] };

interface At {
  orderId: string;
  /** ISO time of the change, from the edge. */
  at: string;
}

export type OrderReservationCommand =
  | ({ type: 'ConfirmReservation'; reservationId: string; channel: string; allocations: LineAllocation[]; expiresAt?: string } & At)
  | ({ type: 'RefuseReservation'; missing: MissingStock[] } & At)
  /** A reserve-on-placement order was paid: keep the units, drop the expiry. */
  | ({ type: 'ClearReservationExpiry' } & At)
  | ({ type: 'ReleaseReservation'; reason: ReleaseReason } & At)
  | ({ type: 'CommitReservation' } & At)
  /** Give back part of the reservation (an approved order change removed lines / lowered quantities). */
  | ({ type: 'ReleaseReservationLines'; lines: ReleaseLineRequest[]; reason: ReleaseReason } & At)
  /** Release when the expiry is due at `at`. */
  | ({ type: 'ExpireReservation' } & At);

export type OrderReservationEvent =
  | ({ type: 'ReservationConfirmed'; reservationId: string; channel: string; allocations: LineAllocation[]; expiresAt?: string } & At)
  | ({ type: 'ReservationRefused'; missing: MissingStock[] } & At)
  | ({ type: 'ReservationExpiryCleared'; reservationId: string } & At)
  | ({ type: 'ReservationReleased'; reservationId: string; allocations: LineAllocation[]; reason: ReleaseReason } & At)
  /** Part of the reservation given back; the order keeps the rest reserved. */
  | ({ type: 'ReservationLinesReleased'; reservationId: string; released: LineAllocation[]; reason: ReleaseReason } & At)
  /** `afterRelease`: the parcel shipped although the reservation had been released (cancel/refund while packed). */
  | ({ type: 'ReservationCommitted'; reservationId: string; allocations: LineAllocation[]; afterRelease?: true } & At);

export type OrderReservationEventType = OrderReservationEvent['type'];
export const ORDER_RESERVATION_EVENT_TYPES: readonly OrderReservationEventType[] = [
  'ReservationConfirmed',
  'ReservationRefused',
  'ReservationExpiryCleared',
  'ReservationReleased',
  'ReservationCommitted',
  'ReservationLinesReleased',
];

/** Units to give back: of line `lineId` when named, else of any of the order's lines of `sku`. */
export interface ReleaseLineRequest {
  sku: string;
  quantity: number;
  lineId?: string;
}

/**
 * Which allocations a partial release takes, at most what is held: the named line (or the SKU's
 * lines, last allocated first), warehouse by warehouse.
 */
export function pickReleasedLines(allocations: LineAllocation[], lines: ReleaseLineRequest[]): LineAllocation[] {
  const left = allocations.map((a) => ({ ...a }));
  const released: LineAllocation[] = [];
  for (const l of lines) {
    let want = Math.max(0, Math.floor(l.quantity));
    for (let i = left.length - 1; i >= 0 && want > 0; i--) {
      const a = left[i];
      if (a.sku !== l.sku || (l.lineId !== undefined && a.lineId !== l.lineId) || a.quantity === 0) continue;
      const take = Math.min(want, a.quantity);
      a.quantity -= take;
      want -= take;
      const same = released.find((r) => r.lineId === a.lineId && r.warehouseId === a.warehouseId);
      if (same) same.quantity += take;
      else released.push({ lineId: a.lineId, sku: a.sku, warehouseId: a.warehouseId, quantity: take });
    }
  }
  return released;
}

/** `allocations` less `released` (allocations reaching 0 are dropped). */
export function withoutReleased(allocations: LineAllocation[], released: LineAllocation[]): LineAllocation[] {
  return allocations
    .map((a) => {
      const r = released.filter((x) => x.lineId === a.lineId && x.warehouseId === a.warehouseId).reduce((n, x) => n + x.quantity, 0);
      return { ...a, quantity: a.quantity - r };
    })
    .filter((a) => a.quantity > 0);
}

export function reservationStreamId(orderId: string): string {
  return `reservation-${orderId}`;
}

/** A new reservation may start from nothing, after a refusal (stock may have arrived) or after a release. */
export function canStartReservation(state: OrderReservationState): boolean {
  return state.status === 'none' || state.status === 'refused' || state.status === 'released';
}

function at(c: At): At {
  return { orderId: c.orderId, at: c.at };
}

function decide(command: OrderReservationCommand, state: OrderReservationState): OrderReservationEvent[] {
  switch (command.type) {
    case 'ConfirmReservation':
      if (!canStartReservation(state)) {
        throw new DomainError('RESERVATION_EXISTS', `order ${command.orderId} already has a ${state.status} reservation`, { status: state.status });
      }
      if (command.allocations.length === 0) throw new DomainError('NO_LINES', 'a reservation needs at least one allocation', {}, 'invalid');
      return [
        {
          type: 'ReservationConfirmed',
          ...at(command),
          reservationId: command.reservationId,
          channel: command.channel,
          allocations: command.allocations,
          ...(command.expiresAt ? { expiresAt: command.expiresAt } : {}),
        },
      ];
    case 'RefuseReservation':
      if (!canStartReservation(state)) {
        throw new DomainError('RESERVATION_EXISTS', `order ${command.orderId} already has a ${state.status} reservation`, { status: state.status });
      }
      return [{ type: 'ReservationRefused', ...at(command), missing: command.missing }];
    case 'ClearReservationExpiry':
      if (state.status !== 'reserved' || !state.expiresAt) return [];
      return [{ type: 'ReservationExpiryCleared', ...at(command), reservationId: state.reservationId }];
    case 'ReleaseReservation':
      // Cancel before payment, or a second cancel: nothing is held, nothing to do.
      if (state.status !== 'reserved') return [];
      return [{ type: 'ReservationReleased', ...at(command), reservationId: state.reservationId, allocations: state.allocations, reason: command.reason }];
    case 'ReleaseReservationLines': {
      // Nothing held (never reserved, already released or shipped): nothing to give back.
      if (state.status !== 'reserved') return [];
      const released = pickReleasedLines(state.allocations, command.lines);
      if (released.length === 0) return [];
      return [{ type: 'ReservationLinesReleased', ...at(command), reservationId: state.reservationId, released, reason: command.reason }];
    }
    case 'ExpireReservation':
      if (state.status !== 'reserved' || !state.expiresAt || !isDue(state.expiresAt, command.at)) return [];
      return [{ type: 'ReservationReleased', ...at(command), reservationId: state.reservationId, allocations: state.allocations, reason: 'expired' }];
    case 'CommitReservation':
      if (state.status === 'committed') return [];
      // Cancelled or refunded while packed, and the parcel shipped anyway: the released units left
      // the warehouse all the same, so the commitment is recorded (the ledgers take them off on_hand).
      if (state.status === 'released') {
        return [{ type: 'ReservationCommitted', ...at(command), reservationId: state.reservationId, allocations: state.allocations, afterRelease: true }];
      }
      if (state.status !== 'reserved') {
        throw new DomainError('RESERVATION_NOT_OPEN', `order ${command.orderId} has no open reservation to commit (status ${state.status})`, { status: state.status });
      }
      return [{ type: 'ReservationCommitted', ...at(command), reservationId: state.reservationId, allocations: state.allocations }];
    default:
      return assertNever(command, 'order reservation command');
  }
}

function evolve(state: OrderReservationState, event: OrderReservationEvent): OrderReservationState {
  switch (event.type) {
    case 'ReservationConfirmed':
      return {
        status: 'reserved',
        reservationId: event.reservationId,
        channel: event.channel,
        allocations: event.allocations,
        ...(event.expiresAt ? { expiresAt: event.expiresAt } : {}),
      };
    case 'ReservationRefused':
      return { status: 'refused', missing: event.missing };
    case 'ReservationExpiryCleared':
      if (state.status !== 'reserved') return state;
      return { status: 'reserved', reservationId: state.reservationId, channel: state.channel, allocations: state.allocations };
    case 'ReservationReleased':
      return { status: 'released', reservationId: event.reservationId, allocations: event.allocations, reason: event.reason };
    case 'ReservationCommitted':
      return { status: 'committed', reservationId: event.reservationId, allocations: event.allocations };
    case 'ReservationLinesReleased':
      if (state.status !== 'reserved') return state;
      return { ...state, allocations: withoutReleased(state.allocations, event.released) };
    default:
      return assertNever(event, 'order reservation event');
  }
}

export const orderReservationDecider: Decider<OrderReservationState, OrderReservationCommand, OrderReservationEvent> = {
  initialState: () => ({ status: 'none' }),
  decide,
  evolve,
};
