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

/**
 * The customer as order-intake stores it: name and phone in full (they stay in order-intake's own
 * stream); everything leaving the service carries {@link CustomerRef} with masked values instead.
 */
export interface CustomerDetails {
  /** The channel's customer id (e.g. Taobao buyer open id). */
  channelCustomerId?: string;
  nickname?: string;
  name?: string;
  phone?: string;
  email?: string;
  /** Seller-side tags such as `vip` or `blocked`; flow rules read them. */
  tags: string[];
}

/** Shipping address in full, as order-intake stores it ({@link AddressView} is the masked view). */
export interface ShippingAddress {
  province: string;
  city: string;
  district: string;
  street: string;
  detail: string;
  postalCode?: string;
  recipient: string;
  phone: string;
}

/** One order line as submitted. Money in integer minor units; the server computes line totals. */
export interface OrderLineInput {
  /** The channel's sub-order id, or a server-made `L<n>` when the channel has none. */
  lineId: string;
  sku: string;
  title: string;
  /** Integer > 0. */
  quantity: number;
  /** Integer minor units per unit. */
  unitPrice: number;
  /** Integer minor units taken off this line (0 when none). */
  lineDiscount: number;
  /** Product category; `custom` marks made-to-order goods that need approval. */
  category?: string;
  /**
   * Weight of one unit in grams, when the channel gives it (e.g. JD's 商品重量): fulfillment weighs
   * the parcel with it (StartFulfillment `lines[].weightGrams` = unit weight x allocated quantity);
   * absent: fulfillment's per-SKU table. Integer > 0.
   */
  unitWeightGrams?: number;
}

/** Recipient fields a platform can hide: the name, the phone number, the street address. */
export const RECIPIENT_FIELDS = ['name', 'phone', 'address'] as const;
export type RecipientField = (typeof RECIPIENT_FIELDS)[number];

/**
 * The platform hid (part of) the recipient. Such an order is never guessed at: the recipient is
 * resolved through the platform (its decrypt API, or a waybill printed by `oaid`).
 * - `masked`: the platform shows part of the value (张*, 1******6198, 沙洲街道****); the
 *   address field holds that masked text as the platform showed it.
 * - `encrypted`: the platform gave ciphertext only its decrypt API opens; the address field is empty.
 * - `withheld`: the platform's export or API gave no value at all; the address field is empty.
 * A field is in at most one list. Fields in none of them are clear text.
 */
export interface RecipientProtection {
  masked: RecipientField[];
  encrypted: RecipientField[];
  withheld: RecipientField[];
  /** The platform's open address id (Taobao/Tmall/Douyin oaid) to decrypt or print the waybill with. */
  oaid?: string;
}

/**
 * The canonical order as a channel connector or the REST/gRPC API submits it, after channel
 * mapping (yuan strings -> fen) and before the server adds the id, totals and status.
 * Carries full PII; it is the payload of order-intake's `PlaceOrder` command.
 */
export interface OrderSubmission {
  channel: Channel;
  /** The channel's own order id, unique per channel (a string: Taobao's have 19 digits). */
  channelOrderId: string;
  shopId: string;
  customer: CustomerDetails;
  shippingAddress: ShippingAddress;
  lines: OrderLineInput[];
  /** Integer minor units. */
  shippingFee: number;
  /** Integer minor units taken off the whole order. */
  orderDiscount: number;
  /** ISO-4217, `CNY` by default. */
  currency: string;
  buyerMessage?: string;
  sellerRemark?: string;
  tags: string[];
  /** References to attached files, e.g. design drawings of a custom order. */
  attachments: string[];
  /** ISO time the buyer placed the order on the channel. */
  placedAt: string;
  /** Present when the platform masked, encrypted or withheld recipient fields (then resolved through the platform). */
  recipientProtection?: RecipientProtection;
  /** `cod` (货到付款): shipped unpaid, the carrier collects the grand total at delivery. `online` when absent. */
  paymentMethod?: PaymentMethod;
  /** Presale (预售): a deposit (定金) now, the balance (尾款) by `balanceDueBy`; shipped not before `shipNotBefore`. */
  presale?: PresaleTerms;
  /**
   * Carrier the platform designated for this order (JD 配送方式 京东配送 -> `JD`, a Tmall 指定快递 ...),
   * as fulfillment's carrier code (upper case, e.g. `JD`, `SF`, `ZTO`). Fulfillment's carrier choice
   * always honours it (rule platform-designated). Absent: none designated by the order.
   */
  designatedCarrier?: string;
}

export type PaymentMethod = 'online' | 'cod';

/** Presale terms. An unpaid balance after `balanceDueBy` cancels the order and releases its stock. */
export interface PresaleTerms {
  /** Integer minor units, > 0 and < the grand total; the balance is the rest. */
  depositAmount: number;
  /** ISO time: the balance must be paid by then. */
  balanceDueBy: string;
  /** ISO time: the presale ship date; the order is not released to fulfillment before it. */
  shipNotBefore: string;
}
