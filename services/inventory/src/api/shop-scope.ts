import { inScope, requirePrincipal } from '@flowline/auth';

/**
 * May the caller see an order's reservation (ADR 0018: another shop's order answers as unknown)?
 * The reservation keeps the shop ReserveStock named (order-intake sends the order's shop); a
 * reservation without one (taken before it did, or a change's own reservation) is shown to
 * every-shop callers only, as libs/auth inScope answers for a row without a shop.
 */
export function reservationVisible(carrier: object, reservation: { orderId: string; shopId?: string | null }): boolean {
  return inScope(requirePrincipal(carrier), { shopId: reservation.shopId ?? null, orderId: reservation.orderId });
}
