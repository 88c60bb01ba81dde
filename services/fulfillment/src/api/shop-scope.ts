import { requirePrincipal, shopFilter, shopVisible } from '@flowline/auth';

/**
 * Is what a shop-limited caller asks about another shop's (ADR 0018)? Every-shop callers and
 * customers (scoped by order, `requireOwnOrder`) are never out; the shop is only looked up for a
 * shop-limited one. A shop fulfillment does not know (an order started before it kept shops) is
 * not out: it stays visible, as every order was before.
 */
export async function outOfShops(carrier: object, shopOf: () => Promise<string | null>): Promise<boolean> {
  const shops = shopFilter(requirePrincipal(carrier));
  if (!shops) return false;
  return !shopVisible(shops, await shopOf());
}
