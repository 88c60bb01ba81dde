import type { Channel } from '@flowline/contracts';
import { fenText, platformTime, yuanToFen } from '../import/cells';
import type { ChannelOrderDraft } from '../import/map-orders';
import { piiState, type PiiState } from '../import/pii';
import type { AfterSalesState, PlatformState } from '../import/profile';

/**
 * Order payloads of the platforms' order APIs (the fields Flowline reads) as drafts, the same
 * shape a file import produces, so pulls, pushes and files go through one sync. Money: yuan
 * strings / numbers on TOP, PDD and Shopify (read as text, never summed as floats), fen integers
 * on Douyin. A payload that cannot be read throws ApiPayloadError (the order goes to the quarantine).
 */
export class ApiPayloadError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ApiPayloadError';
  }
}

interface Common {
  channel: Channel;
  channelOrderId: string;
  shopId: string;
  platformStatus: string;
  state: PlatformState;
  afterSales: AfterSalesState;
  placedAt: string;
  paidAt: string | null;
  buyerNick?: string;
  buyerId?: string;
  recipient: string;
  phone: string;
  address: { province: string; city: string; district: string; street: string; detail: string };
  lines: ChannelOrderDraft['lines'];
  shippingFee: number;
  paid: number;
  platformDiscount: number;
  shopDiscount: number;
  refund: number;
  buyerMessage?: string;
  /** The platform's open address id (TOP `oaid`): decrypt / print the waybill with it. */
  oaid?: string;
  /** Carrier code the platform designated (JD 京配 -> `JD`), as an export's 配送方式 maps it. */
  designatedCarrier?: string;
  raw: unknown;
}

function addressPii(parts: string[]): PiiState {
  const s = parts.map(piiState);
  return s.includes('encrypted') ? 'encrypted' : s.includes('masked') ? 'masked' : s.includes('clear') ? 'clear' : 'absent';
}

function build(c: Common): ChannelOrderDraft {
  const goods = c.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  const a = c.address;
  const parts = [a.province, a.city, a.district, a.street, a.detail];
  const clean = (v: string) => (piiState(v) === 'encrypted' ? '' : v);
  const orderDiscount = goods + c.shippingFee - c.paid;
  if (orderDiscount < 0) throw new ApiPayloadError('pay_amount', `paid ${c.paid} is more than goods ${goods} + shipping ${c.shippingFee}`);
  return {
    channel: c.channel,
    channelOrderId: c.channelOrderId,
    shopId: c.shopId,
    platformStatus: c.platformStatus,
    state: c.state,
    afterSales: c.afterSales,
    placedAt: c.placedAt,
    paidAt: c.paidAt,
    ...(c.buyerNick ? { buyerNick: c.buyerNick } : {}),
    ...(c.buyerId ? { buyerId: c.buyerId } : {}),
    recipient: c.recipient,
    phone: c.phone,
    address: { province: clean(a.province), city: clean(a.city), district: clean(a.district), street: clean(a.street), detail: clean(a.detail) },
    addressText: parts.filter(Boolean).join(' '),
    pii: { name: piiState(c.recipient), phone: piiState(c.phone), address: addressPii(parts) },
    lines: c.lines,
    money: { goods, shippingFee: c.shippingFee, paid: c.paid, orderDiscount, platformDiscount: c.platformDiscount, shopDiscount: c.shopDiscount, refund: c.refund },
    ...(c.buyerMessage ? { buyerMessage: c.buyerMessage } : {}),
    ...(c.oaid ? { oaid: c.oaid } : {}),
    ...(c.designatedCarrier ? { designatedCarrier: c.designatedCarrier } : {}),
    rowNumbers: [],
    rawRows: [c.raw as Record<string, string>],
  };
}

const yuan = (v: unknown, field: string): number => {
  const r = yuanToFen(v === undefined || v === null ? '' : String(v));
  if (!r.ok) throw new ApiPayloadError(field, `"${String(v)}" is not an amount in yuan`);
  return r.value;
};
const fen = (v: unknown, field: string): number => {
  const r = fenText(v === undefined || v === null ? '' : String(v));
  if (!r.ok) throw new ApiPayloadError(field, `"${String(v)}" is not an amount in fen`);
  return r.value;
};
const time = (v: unknown, field: string): string | null => {
  const r = platformTime(v === undefined || v === null ? '' : String(v));
  if (!r.ok) throw new ApiPayloadError(field, `"${String(v)}" is not a time`);
  return r.value;
};
const unix = (v: unknown): string | null => (typeof v === 'number' && v > 0 ? new Date(v * 1000).toISOString() : null);
const qty = (v: unknown, field: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ApiPayloadError(field, `"${String(v)}" is not a positive whole number`);
  return n;
};

// ---- Taobao TOP trade (taobao.trades.sold.increment.get / taobao.trade.fullinfo.get) ---------------------

export interface TopTrade {
  tid_str: string;
  status: string;
  created: string;
  pay_time?: string;
  payment: string;
  post_fee: string;
  buyer_nick?: string;
  receiver_name: string;
  receiver_mobile: string;
  receiver_state: string;
  receiver_city: string;
  receiver_district: string;
  receiver_town?: string;
  receiver_address: string;
  buyer_message?: string;
  /** Open address id of a trade whose receiver is protected (TOP 隐私保护). */
  oaid?: string;
  orders: { order: { oid_str: string; outer_sku_id: string; title: string; num: number; price: string; refund_status?: string }[] };
}

const TOP_STATES: Record<string, PlatformState> = {
  WAIT_BUYER_PAY: 'unpaid',
  TRADE_NO_CREATE_PAY: 'unpaid',
  WAIT_SELLER_SEND_GOODS: 'paid',
  SELLER_CONSIGNED_PART: 'paid',
  WAIT_BUYER_CONFIRM_GOODS: 'shipped',
  TRADE_BUYER_SIGNED: 'shipped',
  TRADE_FINISHED: 'completed',
  TRADE_CLOSED: 'closed',
  TRADE_CLOSED_BY_TAOBAO: 'closed',
};

export function fromTopTrade(t: TopTrade, shopId: string, channel: 'taobao' | 'tmall' = 'taobao'): ChannelOrderDraft {
  const state = TOP_STATES[t.status];
  if (!state) throw new ApiPayloadError('status', `unknown TOP status ${t.status}`);
  const orders = t.orders?.order ?? [];
  const refunding = orders.some((o) => o.refund_status === 'WAIT_SELLER_AGREE' || o.refund_status === 'WAIT_BUYER_RETURN_GOODS');
  return build({
    channel,
    channelOrderId: t.tid_str,
    shopId,
    platformStatus: t.status,
    state,
    afterSales: refunding ? 'refund_requested' : 'none',
    placedAt: time(t.created, 'created') as string,
    paidAt: time(t.pay_time, 'pay_time'),
    ...(t.buyer_nick ? { buyerNick: t.buyer_nick } : {}),
    recipient: t.receiver_name ?? '',
    phone: t.receiver_mobile ?? '',
    address: { province: t.receiver_state, city: t.receiver_city, district: t.receiver_district, street: [t.receiver_town, t.receiver_address].filter(Boolean).join(' '), detail: '' },
    lines: orders.map((o, i) => ({ lineId: o.oid_str, sku: o.outer_sku_id, title: o.title, quantity: qty(o.num, `orders[${i}].num`), unitPrice: yuan(o.price, `orders[${i}].price`) })),
    shippingFee: yuan(t.post_fee, 'post_fee'),
    paid: yuan(t.payment, 'payment'),
    platformDiscount: 0,
    shopDiscount: 0,
    refund: 0,
    ...(t.buyer_message ? { buyerMessage: t.buyer_message } : {}),
    ...(t.oaid ? { oaid: t.oaid } : {}),
    raw: t,
  });
}

// ---- Pinduoduo (pdd.order.number.list.increment.get) ---------------------------------------------------

export interface PddApiOrder {
  order_sn: string;
  order_status: number;
  refund_status: number;
  created_time: string;
  confirm_time?: string;
  goods_amount: number | string;
  pay_amount: number | string;
  postage: number | string;
  seller_discount?: number | string;
  platform_discount?: number | string;
  receiver_name: string;
  receiver_phone: string;
  province: string;
  city: string;
  town: string;
  address: string;
  buyer_memo?: string;
  /** Group-buy (拼团) orders: 0 拼团中, 1 已成团, 2 团失败. Absent on ordinary orders. */
  group_status?: number;
  item_list: { goods_name: string; goods_count: number; goods_price: number | string; outer_id: string; sku_id?: number | string }[];
}

export function fromPddOrder(o: PddApiOrder, shopId: string): ChannelOrderDraft {
  // order_status: 1 待发货, 2 已发货待签收, 3 已签收; refund_status: 1 无售后或售后关闭, 2 售后处理中, 3 退款中, 4 退款成功.
  const shippedOrDone: PlatformState = o.order_status === 3 ? 'completed' : o.order_status === 2 ? 'shipped' : 'paid';
  const refunded = o.refund_status === 4;
  const group: PlatformState | null = o.group_status === 0 ? 'group_forming' : o.group_status === 2 ? 'group_failed' : null;
  const state: PlatformState = group ?? (refunded && o.order_status === 1 ? 'closed' : shippedOrDone);
  const afterSales: AfterSalesState = refunded ? 'refunded' : o.refund_status === 2 || o.refund_status === 3 ? 'refund_requested' : 'none';
  return build({
    channel: 'pinduoduo',
    channelOrderId: o.order_sn,
    shopId,
    platformStatus: `order_status=${o.order_status},refund_status=${o.refund_status}`,
    state,
    afterSales,
    placedAt: time(o.created_time, 'created_time') as string,
    paidAt: time(o.confirm_time, 'confirm_time') ?? (time(o.created_time, 'created_time') as string),
    recipient: o.receiver_name ?? '',
    phone: o.receiver_phone ?? '',
    address: { province: o.province, city: o.city, district: o.town, street: o.address, detail: '' },
    lines: o.item_list.map((it, i) => ({ lineId: `${o.order_sn}-${i + 1}`, sku: it.outer_id, title: it.goods_name, quantity: qty(it.goods_count, `item_list[${i}].goods_count`), unitPrice: yuan(it.goods_price, `item_list[${i}].goods_price`) })),
    shippingFee: yuan(o.postage, 'postage'),
    paid: yuan(o.pay_amount, 'pay_amount'),
    platformDiscount: yuan(o.platform_discount ?? 0, 'platform_discount'),
    shopDiscount: yuan(o.seller_discount ?? 0, 'seller_discount'),
    refund: 0,
    ...(o.buyer_memo ? { buyerMessage: o.buyer_memo } : {}),
    raw: o,
  });
}

// ---- Douyin shop (order.searchList / order.orderDetail): fen integers, unix seconds, ciphertext PII ------

export interface DouyinApiOrder {
  order_id: string;
  order_status: number;
  order_status_desc?: string;
  create_time: number;
  pay_time?: number;
  pay_amount: number;
  post_amount: number;
  promotion_platform_amount?: number;
  promotion_shop_amount?: number;
  encrypt_post_receiver: string;
  encrypt_post_tel: string;
  post_addr: { province: { name: string }; city: { name: string }; town: { name: string }; street?: { name: string }; encrypt_detail: string };
  buyer_words?: string;
  after_sale_status?: number;
  sku_order_list: { order_id: string; code: string; product_name: string; item_num: number; origin_amount: number }[];
}

export function fromDouyinOrder(o: DouyinApiOrder, shopId: string): ChannelOrderDraft {
  // order_status: 1 待支付, 2 待发货 (备货中), 3 已发货, 4 已取消, 5 已完成.
  const states: Record<number, PlatformState> = { 1: 'unpaid', 2: 'paid', 3: 'shipped', 4: 'closed', 5: 'completed' };
  const state = states[o.order_status];
  if (!state) throw new ApiPayloadError('order_status', `unknown Douyin order_status ${o.order_status}`);
  return build({
    channel: 'douyin',
    channelOrderId: o.order_id,
    shopId,
    platformStatus: o.order_status_desc ?? String(o.order_status),
    state,
    afterSales: o.after_sale_status === 12 ? 'refunded' : o.after_sale_status && o.after_sale_status > 0 ? 'refund_requested' : 'none',
    placedAt: unix(o.create_time) as string,
    paidAt: unix(o.pay_time),
    recipient: o.encrypt_post_receiver ?? '',
    phone: o.encrypt_post_tel ?? '',
    address: { province: o.post_addr.province.name, city: o.post_addr.city.name, district: o.post_addr.town.name, street: o.post_addr.street?.name ?? '', detail: o.post_addr.encrypt_detail ?? '' },
    lines: o.sku_order_list.map((s, i) => {
      const q = qty(s.item_num, `sku_order_list[${i}].item_num`);
      const total = fen(s.origin_amount, `sku_order_list[${i}].origin_amount`);
      if (total % q !== 0) throw new ApiPayloadError(`sku_order_list[${i}].origin_amount`, 'does not divide by item_num');
      return { lineId: s.order_id, sku: s.code, title: s.product_name, quantity: q, unitPrice: total / q };
    }),
    shippingFee: fen(o.post_amount, 'post_amount'),
    paid: fen(o.pay_amount, 'pay_amount'),
    platformDiscount: fen(o.promotion_platform_amount ?? 0, 'promotion_platform_amount'),
    shopDiscount: fen(o.promotion_shop_amount ?? 0, 'promotion_shop_amount'),
    refund: 0,
    ...(o.buyer_words ? { buyerMessage: o.buyer_words } : {}),
    raw: o,
  });
}

// ---- Shopify webhook orders/create, orders/updated ---------------------------------------------------

export interface ShopifyOrder {
  id: number | string;
  name: string;
  email?: string;
  created_at: string;
  processed_at?: string;
  financial_status: string;
  cancelled_at?: string | null;
  total_price: string;
  total_discounts?: string;
  total_shipping_price_set?: { shop_money: { amount: string } };
  note?: string | null;
  line_items: { id: number | string; sku: string; title: string; quantity: number; price: string }[];
  shipping_address?: { name: string; phone: string; province: string; city: string; address1: string; address2?: string };
}

export function fromShopifyOrder(o: ShopifyOrder, shopId: string): ChannelOrderDraft {
  const states: Record<string, PlatformState> = { pending: 'unpaid', authorized: 'unpaid', paid: 'paid', partially_refunded: 'paid', refunded: 'closed', voided: 'closed' };
  const state = o.cancelled_at ? 'closed' : states[o.financial_status];
  if (!state) throw new ApiPayloadError('financial_status', `unknown Shopify financial_status ${o.financial_status}`);
  const a = o.shipping_address;
  const paidLike = o.financial_status === 'paid' || o.financial_status === 'partially_refunded' || o.financial_status === 'refunded';
  return build({
    channel: 'web',
    channelOrderId: o.name,
    shopId,
    platformStatus: o.financial_status,
    state,
    afterSales: 'none',
    placedAt: time(o.created_at.replace(/([+-]\d{2}):(\d{2})$/, '$1$2'), 'created_at') as string,
    paidAt: paidLike ? time((o.processed_at ?? o.created_at).replace(/([+-]\d{2}):(\d{2})$/, '$1$2'), 'processed_at') : null,
    ...(o.email ? { buyerNick: o.email } : {}),
    recipient: a?.name ?? '',
    phone: a?.phone ?? '',
    address: { province: a?.province ?? '', city: a?.city ?? '', district: a?.address2 ?? '', street: a?.address1 ?? '', detail: '' },
    lines: o.line_items.map((l, i) => ({ lineId: String(l.id), sku: l.sku, title: l.title, quantity: qty(l.quantity, `line_items[${i}].quantity`), unitPrice: yuan(l.price, `line_items[${i}].price`) })),
    shippingFee: yuan(o.total_shipping_price_set?.shop_money.amount ?? '0', 'total_shipping_price_set'),
    paid: yuan(o.total_price, 'total_price'),
    platformDiscount: 0,
    shopDiscount: yuan(o.total_discounts ?? '0', 'total_discounts'),
    refund: 0,
    ...(o.note ? { buyerMessage: o.note } : {}),
    raw: o,
  });
}

// ---- JD (jingdong.pop.order.search): yuan strings, Beijing times ------------------------------------

export interface JdApiOrder {
  orderId: string;
  orderState: string;
  orderStartTime: string;
  paymentConfirmTime?: string;
  orderPayment: string;
  freightPrice: string;
  sellerDiscount?: string;
  pin?: string;
  orderRemark?: string;
  /**
   * JD's delivery method (是否京配, an `optional_fields` field): 68 京配 (JD logistics delivers), 69
   * 京配自提 (JD logistics to a pick-up point); absent or any other value: the seller ships
   * (商家自配送). A number in JD's typed SDKs, a string in its JSON; both are read. Not
   * `deliveryType`: that is the delivery *date* preference (工作日 / 双休日 / 任意时间).
   */
  idSopShipmenttype?: number | string;
  consigneeInfo: { fullname: string; mobile: string; province: string; city: string; county: string; town?: string; fullAddress: string };
  itemInfoList: { skuId: string; outerSkuId: string; skuName: string; itemTotal: string; jdPrice: string }[];
}

/** The JD order fields the pull asks for (`optional_fields`: JD returns only the fields named). */
export const JD_ORDER_FIELDS = [
  'orderId',
  'orderState',
  'orderStartTime',
  'paymentConfirmTime',
  'orderPayment',
  'freightPrice',
  'sellerDiscount',
  'pin',
  'orderRemark',
  'idSopShipmenttype',
  'consigneeInfo',
  'itemInfoList',
] as const satisfies readonly (keyof JdApiOrder)[];

/** idSopShipmenttype values that mean JD logistics carries the parcel (京配, 京配自提). */
const JD_DELIVERED = new Set(['68', '69']);

/**
 * The carrier JD designates for an order, as the export's 配送方式 京东配送 / 京配 maps it: `JD` for
 * a JD-delivered order (idSopShipmenttype 68 / 69), none when the seller ships (商家自配送: the
 * carrier rules choose).
 */
export function jdDesignatedCarrier(idSopShipmenttype: unknown): 'JD' | undefined {
  if (idSopShipmenttype === undefined || idSopShipmenttype === null) return undefined;
  return JD_DELIVERED.has(String(idSopShipmenttype).trim()) ? 'JD' : undefined;
}

const JD_STATES: Record<string, PlatformState> = {
  WAIT_SELLER_STOCK_OUT: 'paid',
  WAIT_GOODS_RECEIVE_CONFIRM: 'shipped',
  FINISHED_L: 'completed',
  TRADE_CANCELED: 'closed',
  // 锁定: held by JD while a cancellation request or a review is pending, not cancelled.
  LOCKED: 'on_hold',
  POP_ORDER_PAUSE: 'paid',
};

export function fromJdOrder(o: JdApiOrder, shopId: string): ChannelOrderDraft {
  const state = JD_STATES[o.orderState];
  if (!state) throw new ApiPayloadError('orderState', `unknown JD orderState ${o.orderState}`);
  const c = o.consigneeInfo;
  const designatedCarrier = jdDesignatedCarrier(o.idSopShipmenttype);
  return build({
    channel: 'jd',
    channelOrderId: o.orderId,
    shopId,
    platformStatus: o.orderState,
    state,
    afterSales: 'none',
    placedAt: time(o.orderStartTime, 'orderStartTime') as string,
    // JD lists paid orders only (POP orders are paid before the seller sees them, COD aside).
    paidAt: time(o.paymentConfirmTime, 'paymentConfirmTime') ?? (time(o.orderStartTime, 'orderStartTime') as string),
    ...(o.pin ? { buyerId: o.pin } : {}),
    recipient: c.fullname ?? '',
    phone: c.mobile ?? '',
    address: { province: c.province, city: c.city, district: c.county, street: [c.town, c.fullAddress].filter(Boolean).join(' '), detail: '' },
    lines: o.itemInfoList.map((it, i) => ({ lineId: `${o.orderId}-${it.skuId}`, sku: it.outerSkuId, title: it.skuName, quantity: qty(it.itemTotal, `itemInfoList[${i}].itemTotal`), unitPrice: yuan(it.jdPrice, `itemInfoList[${i}].jdPrice`) })),
    shippingFee: yuan(o.freightPrice, 'freightPrice'),
    paid: yuan(o.orderPayment, 'orderPayment'),
    platformDiscount: 0,
    shopDiscount: yuan(o.sellerDiscount ?? '0', 'sellerDiscount'),
    refund: 0,
    ...(o.orderRemark ? { buyerMessage: o.orderRemark } : {}),
    ...(designatedCarrier ? { designatedCarrier } : {}),
    raw: o,
  });
}

/** Where an API order came from, as kept with its quarantine entry (so a person's fix can map it again). */
export interface ApiOrigin {
  platform: 'taobao' | 'pinduoduo' | 'douyin' | 'jd' | 'shopify';
  shopId: string;
  /** TOP shops: the channel the orders go under. */
  channel?: 'taobao' | 'tmall';
}

/**
 * A platform order payload (as the API returned it, or as a person corrected it in the quarantine)
 * mapped with that platform's API mapping. Anything unreadable, including a payload that is not
 * the platform's shape at all, is an ApiPayloadError naming the field.
 */
export function fromApiPayload(origin: ApiOrigin, payload: unknown): ChannelOrderDraft {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new ApiPayloadError('payload', 'must be the platform order object');
  try {
    switch (origin.platform) {
      case 'taobao':
        return fromTopTrade(payload as TopTrade, origin.shopId, origin.channel ?? 'taobao');
      case 'pinduoduo':
        return fromPddOrder(payload as PddApiOrder, origin.shopId);
      case 'douyin':
        return fromDouyinOrder(payload as DouyinApiOrder, origin.shopId);
      case 'jd':
        return fromJdOrder(payload as JdApiOrder, origin.shopId);
      case 'shopify':
        return fromShopifyOrder(payload as ShopifyOrder, origin.shopId);
    }
  } catch (e) {
    if (e instanceof ApiPayloadError) throw e;
    throw new ApiPayloadError('payload', `not a readable ${origin.platform} order (${e instanceof Error ? e.message : String(e)})`);
  }
}
