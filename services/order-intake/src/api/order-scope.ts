import { allShops, can, inScope, type Principal } from '@flowline/auth';
import { ForbiddenException } from '@nestjs/common';
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

/**
 * What PlaceOrder checks beyond `create Order`: the shop is one of the token's, and a payment sent
 * with the order needs what confirming one needs (`update Order`, POST /payments): a sales token
 * places orders but cannot mark them paid (ADR 0018). 403 otherwise, nothing stored.
 */
export function checkPlacement(principal: Principal, shopId: string, withPayment: boolean): void {
  if (!inScope(principal, { shopId, orderId: null })) throw new ForbiddenException({ code: 'FORBIDDEN', message: `shop ${shopId} is outside this token's shops` });
  if (withPayment && !can(principal, 'update', 'Order')) {
    throw new ForbiddenException({ code: 'FORBIDDEN', message: 'a payment with the order needs the permission to confirm payments (update Order); place the order without payment' });
  }
}
