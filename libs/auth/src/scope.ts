import { NotFoundException } from '@nestjs/common';
import type { Principal } from './principal';

/** True when the principal may see every shop (`shops` absent or `["*"]`). */
export const allShops = (p: Principal): boolean => p.shops.includes('*');

/**
 * Shop filter for list endpoints: `undefined` = no filter (all shops), else the shop ids to keep.
 * A caller's own `shopId` query is intersected with it (asking for a foreign shop yields nothing).
 */
export function shopFilter(p: Principal, asked?: string): string[] | undefined {
  if (allShops(p)) return asked ? [asked] : undefined;
  if (asked) return p.shops.includes(asked) ? [asked] : [];
  return [...p.shops];
}

/** A buyer's token (the portal): the customer role and no staff role. It sees the orders in its token only. */
export function isCustomerOnly(p: Principal): boolean {
  return p.roles.includes('customer') && !p.roles.some((r) => r !== 'customer');
}

/**
 * Row check for reads: may the principal see a row of `shopId` (and, for a customer, this order)?
 * Out of scope answers 404 at the caller, never 403, so existence is not confirmed.
 */
export function inScope(p: Principal, row: { shopId?: string | null; orderId?: string | null }): boolean {
  if (isCustomerOnly(p)) {
    return !!row.orderId && (p.orders ?? []).includes(row.orderId);
  }
  if (allShops(p)) return true;
  return !!row.shopId && p.shops.includes(row.shopId);
}

/**
 * May a caller limited to `shops` (undefined = every shop, as `shopFilter` gives) see a row of
 * `shopId`? A row whose shop is not known (recorded before a service kept shops) stays visible.
 */
export function shopVisible(shops: readonly string[] | undefined, shopId: string | null | undefined): boolean {
  return !shops || !shopId || shops.includes(shopId);
}

/** Keeps the rows of `rows` the principal may see. */
export function filterInScope<T extends { shopId?: string | null; orderId?: string | null }>(p: Principal, rows: T[]): T[] {
  return rows.filter((r) => inScope(p, r));
}

/** A buyer's token reads only the orders in it: another order answers 404, like an unknown one. */
export function requireOwnOrder(p: Principal, orderId: string): void {
  if (isCustomerOnly(p) && !(p.orders ?? []).includes(orderId)) throw new NotFoundException({ code: 'ORDER_NOT_FOUND', message: `order ${orderId} not found`, details: { id: orderId } });
}
