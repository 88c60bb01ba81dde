import { allShops, notFoundOutOfScope, type Principal } from '@flowline/auth';

/**
 * The shops a caller's analytics cover (issue #16, data scoping): `undefined` = every shop (the
 * token has no shop limit); else only the token's shops count in every figure (sales and KPIs, RFM,
 * SKU pairs, forecasts and the purchase suggestions built on them, reconciliation). Asking for a
 * shop outside the scope answers 404, like an unknown id (existence is not confirmed). A call
 * without a verified principal (never the case behind the guard) sees nothing.
 */
export function analyticsShops(p: Principal | undefined, askedShopId?: string): string[] | undefined {
  if (!p) return [];
  if (allShops(p)) return undefined;
  if (askedShopId && !p.shops.includes(askedShopId)) throw notFoundOutOfScope('shop', askedShopId, 'SHOP_NOT_FOUND');
  return [...p.shops];
}
