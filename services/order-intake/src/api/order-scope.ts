import { allShops, inScope, type Principal } from '@flowline/auth';
import type { OrderScope } from '../application/change-order.handler';

/**
 * The data scope of a verified principal as the commands check it (issue #16, ADR 0018): a
 * shop-limited user acts on their shops' orders, a customer on the orders in the token. Undefined
 * for a principal that sees every shop (nothing to check).
 */
export function orderScopeOf(principal: Principal): OrderScope | undefined {
  if (allShops(principal) && !principal.roles.includes('customer')) return undefined;
  return (order) => inScope(principal, order);
}
