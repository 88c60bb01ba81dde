import { describe, it } from 'vitest';
import { deciderSpec } from '@flowline/testing';
import { orderReservationDecider, type LineAllocation, type OrderReservationEvent } from './order-reservation.decider';

const at = '2026-05-01T10:00:00.000Z';
const o = { orderId: 'o1', at };
const spec = deciderSpec(orderReservationDecider);
const allocations: LineAllocation[] = [{ lineId: 'l1', sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 2 }];
const confirmed = (expiresAt?: string): OrderReservationEvent => ({
  type: 'ReservationConfirmed',
  ...o,
  reservationId: 'r1',
  channel: 'tmall',
  allocations,
  ...(expiresAt ? { expiresAt } : {}),
});
const missing = [{ sku: 'SKU-TEA-001', requested: 2, available: 1, lineIds: ['l1'] }];

describe('order reservation', () => {
  it('confirms a first reservation', () => {
    spec.given([]).when({ type: 'ConfirmReservation', ...o, reservationId: 'r1', channel: 'tmall', allocations }).then([confirmed()]);
  });

  it('records a refusal with what is missing', () => {
    spec.given([]).when({ type: 'RefuseReservation', ...o, missing }).then([{ type: 'ReservationRefused', ...o, missing }]);
  });

  it('may try again after a refusal (stock may have arrived) and after a release', () => {
    spec.given([{ type: 'ReservationRefused', ...o, missing }]).when({ type: 'ConfirmReservation', ...o, reservationId: 'r1', channel: 'tmall', allocations }).then([confirmed()]);
    spec
      .given([confirmed(), { type: 'ReservationReleased', ...o, reservationId: 'r1', allocations, reason: 'expired' }])
      .when({ type: 'ConfirmReservation', ...o, reservationId: 'r1', channel: 'tmall', allocations })
      .then([confirmed()]);
  });

  it('refuses a second reservation while one is open', () => {
    spec.given([confirmed()]).when({ type: 'ConfirmReservation', ...o, reservationId: 'r2', channel: 'tmall', allocations }).thenThrows({ code: 'RESERVATION_EXISTS' });
  });

  it('releases an open reservation with its allocations and reason', () => {
    spec.given([confirmed()]).when({ type: 'ReleaseReservation', ...o, reason: 'cancelled' }).then([
      { type: 'ReservationReleased', ...o, reservationId: 'r1', allocations, reason: 'cancelled' },
    ]);
  });

  it('does nothing when releasing without an open reservation (cancel before payment, second cancel)', () => {
    spec.given([]).when({ type: 'ReleaseReservation', ...o, reason: 'cancelled' }).then([]);
    spec.given([confirmed(), { type: 'ReservationReleased', ...o, reservationId: 'r1', allocations, reason: 'cancelled' }]).when({ type: 'ReleaseReservation', ...o, reason: 'cancelled' }).then([]);
  });

  it('commits on shipment once', () => {
    spec.given([confirmed()]).when({ type: 'CommitReservation', ...o }).then([{ type: 'ReservationCommitted', ...o, reservationId: 'r1', allocations }]);
    spec.given([confirmed(), { type: 'ReservationCommitted', ...o, reservationId: 'r1', allocations }]).when({ type: 'CommitReservation', ...o }).then([]);
  });

  it('records a shipment after a release (cancelled or refunded while packed, shipped anyway) as a commitment of the released units', () => {
    const released: OrderReservationEvent = { type: 'ReservationReleased', ...o, reservationId: 'r1', allocations, reason: 'cancelled' };
    spec.given([confirmed(), released]).when({ type: 'CommitReservation', ...o }).then([{ type: 'ReservationCommitted', ...o, reservationId: 'r1', allocations, afterRelease: true }]);
    spec.given([confirmed(), released, { type: 'ReservationCommitted', ...o, reservationId: 'r1', allocations, afterRelease: true }]).when({ type: 'CommitReservation', ...o }).then([]);
  });

  it('refuses to commit a reservation that is not open', () => {
    spec.given([]).when({ type: 'CommitReservation', ...o }).thenThrows({ code: 'RESERVATION_NOT_OPEN' });
    spec.given([{ type: 'ReservationRefused', ...o, missing }]).when({ type: 'CommitReservation', ...o }).thenThrows({ code: 'RESERVATION_NOT_OPEN' });
  });

  it('expires an unpaid hold once its time is due, and not before', () => {
    const expiresAt = '2026-05-01T10:30:00.000Z';
    spec.given([confirmed(expiresAt)]).when({ type: 'ExpireReservation', orderId: 'o1', at: '2026-05-01T10:29:59.999Z' }).then([]);
    spec.given([confirmed(expiresAt)]).when({ type: 'ExpireReservation', orderId: 'o1', at: expiresAt }).then([
      { type: 'ReservationReleased', orderId: 'o1', at: expiresAt, reservationId: 'r1', allocations, reason: 'expired' },
    ]);
  });

  it('never expires a reservation held on payment', () => {
    spec.given([confirmed()]).when({ type: 'ExpireReservation', orderId: 'o1', at: '2030-01-01T00:00:00.000Z' }).then([]);
  });

  it('clears the expiry when the order is paid, so the hold no longer expires', () => {
    const expiresAt = '2026-05-01T10:30:00.000Z';
    spec.given([confirmed(expiresAt)]).when({ type: 'ClearReservationExpiry', ...o }).then([{ type: 'ReservationExpiryCleared', ...o, reservationId: 'r1' }]);
    spec.given([confirmed(expiresAt), { type: 'ReservationExpiryCleared', ...o, reservationId: 'r1' }]).when({ type: 'ExpireReservation', orderId: 'o1', at: '2030-01-01T00:00:00.000Z' }).then([]);
  });
});

describe('order reservation: partial release (an approved change removed lines / lowered quantities)', () => {
  const two: LineAllocation[] = [
    { lineId: 'l1', sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 3 },
    { lineId: 'l2', sku: 'SKU-CUP-002', warehouseId: 'WH-SH', quantity: 1 },
    { lineId: 'l2', sku: 'SKU-CUP-002', warehouseId: 'WH-BJ', quantity: 2 },
  ];
  const held: OrderReservationEvent = { type: 'ReservationConfirmed', ...o, reservationId: 'r1', channel: 'tmall', allocations: two };

  it('gives back part of a line by lineId and keeps the rest reserved', () => {
    spec
      .given([held])
      .when({ type: 'ReleaseReservationLines', ...o, lines: [{ sku: 'SKU-TEA-001', lineId: 'l1', quantity: 2 }], reason: 'order changed' })
      .then([{ type: 'ReservationLinesReleased', ...o, reservationId: 'r1', released: [{ lineId: 'l1', sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 2 }], reason: 'order changed' }]);
  });

  it('takes a removed line across its warehouses (last allocated first), at most what is held', () => {
    spec
      .given([held])
      .when({ type: 'ReleaseReservationLines', ...o, lines: [{ sku: 'SKU-CUP-002', quantity: 9 }], reason: 'order changed' })
      .then([
        {
          type: 'ReservationLinesReleased',
          ...o,
          reservationId: 'r1',
          released: [
            { lineId: 'l2', sku: 'SKU-CUP-002', warehouseId: 'WH-BJ', quantity: 2 },
            { lineId: 'l2', sku: 'SKU-CUP-002', warehouseId: 'WH-SH', quantity: 1 },
          ],
          reason: 'order changed',
        },
      ]);
  });

  it('commits only what is left after a partial release', () => {
    const partial: OrderReservationEvent = { type: 'ReservationLinesReleased', ...o, reservationId: 'r1', released: [{ lineId: 'l1', sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 2 }], reason: 'order changed' };
    spec
      .given([held, partial])
      .when({ type: 'CommitReservation', ...o })
      .then([{ type: 'ReservationCommitted', ...o, reservationId: 'r1', allocations: [{ ...two[0], quantity: 1 }, two[1], two[2]] }]);
  });

  it('releases nothing when nothing is held or the line is unknown', () => {
    const lines = [{ sku: 'SKU-TEA-001', lineId: 'l1', quantity: 1 }];
    spec.given([]).when({ type: 'ReleaseReservationLines', ...o, lines, reason: 'order changed' }).then([]);
    spec.given([held, { type: 'ReservationReleased', ...o, reservationId: 'r1', allocations: two, reason: 'cancelled' }]).when({ type: 'ReleaseReservationLines', ...o, lines, reason: 'order changed' }).then([]);
    spec.given([held]).when({ type: 'ReleaseReservationLines', ...o, lines: [{ sku: 'SKU-TEA-001', lineId: 'l9', quantity: 1 }], reason: 'order changed' }).then([]);
  });
});
