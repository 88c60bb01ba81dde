import type { ChannelOrderDraft } from '../domain/import/map-orders';
import type { PullPlatform } from '../domain/connectors/windows';

/** One shop on one platform with its app credentials (from CHANNEL_SHOPS). */
export interface ShopAccount {
  platform: PullPlatform | 'shopify';
  shopId: string;
  appKey: string;
  appSecret: string;
  accessToken?: string;
  /** The platform's API base URL (the fake platform in tests and demo). */
  baseUrl: string;
  /** Channel the orders are placed under (taobao shops may be tmall). */
  channel?: 'taobao' | 'tmall';
  /**
   * Our SKU -> the platform's item id for stock push-back where the platform's stock API needs it
   * (TOP num_iid, JD skuId, PDD goods_id); the SKU itself is sent as the merchant code (outer id).
   */
  listings?: Record<string, string>;
}

/** A page of orders in one window; `failures` are orders whose payload could not be read. */
export interface OrderPage {
  orders: ChannelOrderDraft[];
  failures: { channelOrderId: string; reason: string; raw: unknown }[];
}

/**
 * The port every platform's order API adapter implements: all orders modified in a window (each
 * adapter pages the way its platform requires), the platform's clock, and one order by id (pushes).
 */
export interface OrderPullConnector {
  readonly platform: PullPlatform;
  serverTime(shop: ShopAccount): Promise<string>;
  ordersModifiedIn(shop: ShopAccount, window: { start: string; end: string }): Promise<OrderPage>;
  order(shop: ShopAccount, channelOrderId: string): Promise<OrderPage>;
}

/** A platform API call that failed (signature refused, rate limit, network): the window is retried next time. */
export class PlatformApiError extends Error {
  constructor(
    readonly platform: string,
    readonly code: string,
    message: string,
  ) {
    super(`${platform} ${code}: ${message}`);
    this.name = 'PlatformApiError';
  }
}
