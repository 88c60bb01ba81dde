import { requirePrincipal, shopFilter } from '@flowline/auth';
import { DomainError } from '@flowline/domain';

/**
 * Is what a shop-limited caller asks about another shop's (ADR 0018)? Every-shop callers and
 * customers (scoped by order, `requireOwnOrder`) are never out; the shop is only looked up for a
 * shop-limited one. A shop fulfillment does not know (an order started before it kept shops) is
 * not out: it stays visible, as every order was before.
 */
export async function outOfShops(carrier: object, shopOf: () => Promise<string | null>): Promise<boolean> {
  const shops = shopFilter(requirePrincipal(carrier));
  if (!shops) return false;
  const shop = await shopOf();
  return !!shop && !shops.includes(shop);
}

/** Another shop's order answers as one whose fulfilment has not started (404). */
export const orderNotStarted = (orderId: string) => new DomainError('FULFILLMENT_NOT_STARTED', `fulfilment of order ${orderId} has not started`, { orderId }, 'not_found');

/** Another shop's parcel answers as an unknown one (404). */
export const shipmentNotFound = (shipmentId: string) => new DomainError('SHIPMENT_NOT_FOUND', `no shipment ${shipmentId}`, { shipmentId }, 'not_found');
