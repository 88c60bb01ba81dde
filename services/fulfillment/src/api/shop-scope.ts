import { requirePrincipal, shopFilter, shopVisible } from '@flowline/auth';
import { fulfillmentNotStarted, shipmentNotFound, type FulfillmentService } from '../application/fulfillment.service';

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

/** A read or command on a parcel (or merged box): another shop's answers as an unknown one (404 / NOT_FOUND), nothing done. */
export async function requireShipmentInShops(carrier: object, service: Pick<FulfillmentService, 'shopOfShipment'>, shipmentId: string): Promise<void> {
  if (await outOfShops(carrier, () => service.shopOfShipment(shipmentId))) throw shipmentNotFound(shipmentId);
}

/** The same for an order's fulfilment: another shop's order answers as one whose fulfilment has not started. */
export async function requireOrderInShops(carrier: object, service: Pick<FulfillmentService, 'shopOfOrder'>, orderId: string): Promise<void> {
  if (await outOfShops(carrier, () => service.shopOfOrder(orderId))) throw fulfillmentNotStarted(orderId);
}
