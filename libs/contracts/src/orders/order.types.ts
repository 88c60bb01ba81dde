import type { Money } from '../envelope';

/** Sales channels an order can come from. Channel order ids are strings (Taobao's have 19 digits). */
export const CHANNELS = ['taobao', 'tmall', 'jd', 'pinduoduo', 'douyin', 'web', 'offline', 'api'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The order journey (DOMAIN.md). `cancelled` and `refunded` are terminal. */
export const ORDER_STAGES = [
  'placed',
  'paid',
  'stock_reserved',
  'awaiting_approval',
  'ready_to_ship',
  'packed',
  'shipped',
  'delivered',
  'archived',
  'cancelled',
  'refunded',
] as const;
export type OrderStage = (typeof ORDER_STAGES)[number];

/** Flags that stop an order without changing its stage. */
export type OrderFlag = 'on_hold' | 'exception';

export interface CustomerRef {
  /** The channel's customer id or nickname. */
  channelCustomerId?: string;
  nickname?: string;
  /** Masked for display, e.g. 张* ; the full value stays in order-intake's own stream. */
  nameMasked?: string;
  /** Masked for display, e.g. 138****5678. */
  phoneMasked?: string;
  email?: string;
  tags: string[];
}

export interface AddressView {
  province: string;
  city: string;
  district: string;
  /** Street and detail are masked beyond the district in integration events. */
  streetMasked?: string;
  postalCode?: string;
  recipientMasked?: string;
  phoneMasked?: string;
}

export interface OrderLineView {
  lineId: string;
  sku: string;
  title: string;
  quantity: number;
  /** Integer minor units. */
  unitPrice: number;
  /** Integer minor units taken off this line. */
  lineDiscount: number;
  category?: string;
}

export interface OrderTotals {
  /** Sum of quantity * unitPrice - lineDiscount over lines. */
  itemsTotal: number;
  shippingFee: number;
  orderDiscount: number;
  /** itemsTotal + shippingFee - orderDiscount; what the customer must pay. */
  grandTotal: number;
  currency: string;
}

export type { Money };
