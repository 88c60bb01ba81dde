import { allShops, inScope, isCustomerOnly, type Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import type { Pool } from 'pg';
import { NotificationStore } from '../infra/notification-store';

/** notification's 404 for an order: the same for one it has not seen and one outside the caller's shops. */
export function orderNotKnown(orderId: string): DomainError {
  return new DomainError('ORDER_NOT_KNOWN', `order ${orderId} has not been seen by notification`, { orderId }, 'not_found');
}

/**
 * May the caller see what notification holds about this order (ADR 0018)? The shop is the one the
 * order's facts name (from OrderPlaced), looked up only for a shop-limited caller; an order whose
 * shop notification does not know is outside every limited caller's shops (libs/auth inScope).
 */
export async function orderVisible(principal: Principal, pool: Pick<Pool, 'query'>, orderId: string): Promise<boolean> {
  if (allShops(principal) && !isCustomerOnly(principal)) return true;
  return inScope(principal, { shopId: await NotificationStore.shopOfOrder(pool, orderId), orderId });
}
