import type { OrderLineInput, OrderSubmission } from '@flowline/contracts';
import { OrderErrors } from '../order.errors';

/**
 * Channel mappers: each platform's order payload (the fields Flowline reads from it) as the
 * canonical OrderSubmission. Money becomes integer fen without floating point: most platforms
 * send yuan as decimal strings ("128.00"), Douyin sends fen integers. Platform times without a
 * zone are Beijing time (UTC+8). Ids stay strings (Taobao's tid has 19 digits).
 */

/** "128.5" -> 12850, "0.01" -> 1, "128" -> 12800. Refuses more than two decimals, signs and junk. */
export function yuanToFen(value: string | number, field: string): number {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) throw OrderErrors.invalid(field, `"${String(value)}" is not an amount in yuan with at most two decimals`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** "2025-11-25 15:59:00" (Beijing time) -> "2025-11-25T07:59:00.000Z". */
export function beijingTimeToIso(value: string, field: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(value.trim());
  const ms = m ? Date.parse(`${m[1]}T${m[2]}+08:00`) : NaN;
  if (Number.isNaN(ms)) throw OrderErrors.invalid(field, `"${value}" is not a time like 2025-11-25 15:59:00`);
  return new Date(ms).toISOString();
}

/** Platforms send one address line (often with the township before it): it becomes `street`. */
function joinAddress(township: string | undefined, line: string): string {
  return township && !line.startsWith(township) ? `${township} ${line}` : line;
}

function positiveInt(value: string | number, field: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw OrderErrors.invalid(field, `"${String(value)}" is not a positive whole number`);
  return n;
}

// ---- Taobao / Tmall (TOP trade) --------------------------------------------------------------

export interface TaobaoTrade {
  tid: string;
  buyer_nick: string;
  buyer_open_uid?: string;
  receiver_name: string;
  receiver_mobile: string;
  receiver_state: string;
  receiver_city: string;
  receiver_district: string;
  receiver_town?: string;
  receiver_address: string;
  receiver_zip?: string;
  post_fee: string;
  discount_fee?: string;
  buyer_message?: string;
  seller_memo?: string;
  created: string;
  orders: { oid: string; outer_sku_id: string; title: string; num: number | string; price: string; discount_fee?: string; category?: string }[];
}

export function fromTaobao(t: TaobaoTrade, shopId: string, channel: 'taobao' | 'tmall' = 'taobao'): OrderSubmission {
  return {
    channel,
    channelOrderId: t.tid,
    shopId,
    customer: { ...(t.buyer_open_uid ? { channelCustomerId: t.buyer_open_uid } : {}), nickname: t.buyer_nick, name: t.receiver_name, phone: t.receiver_mobile, tags: [] },
    shippingAddress: {
      province: t.receiver_state,
      city: t.receiver_city,
      district: t.receiver_district,
      street: joinAddress(t.receiver_town, t.receiver_address),
      detail: '',
      ...(t.receiver_zip ? { postalCode: t.receiver_zip } : {}),
      recipient: t.receiver_name,
      phone: t.receiver_mobile,
    },
    lines: t.orders.map(
      (o, i): OrderLineInput => ({
        lineId: o.oid,
        sku: o.outer_sku_id,
        title: o.title,
        quantity: positiveInt(o.num, `orders[${i}].num`),
        unitPrice: yuanToFen(o.price, `orders[${i}].price`),
        lineDiscount: o.discount_fee ? yuanToFen(o.discount_fee, `orders[${i}].discount_fee`) : 0,
        ...(o.category ? { category: o.category } : {}),
      }),
    ),
    shippingFee: yuanToFen(t.post_fee, 'post_fee'),
    orderDiscount: t.discount_fee ? yuanToFen(t.discount_fee, 'discount_fee') : 0,
    currency: 'CNY',
    ...(t.buyer_message ? { buyerMessage: t.buyer_message } : {}),
    ...(t.seller_memo ? { sellerRemark: t.seller_memo } : {}),
    tags: [],
    attachments: [],
    placedAt: beijingTimeToIso(t.created, 'created'),
  };
}

// ---- JD ----------------------------------------------------------------------------------------

export interface JdOrder {
  orderId: string;
  pin: string;
  consigneeInfo: { fullname: string; mobile: string; province: string; city: string; county: string; town?: string; fullAddress: string };
  freightPrice: string;
  sellerDiscount?: string;
  orderRemark?: string;
  orderStartTime: string;
  itemInfoList: { skuId: string; outerSkuId: string; skuName: string; itemTotal: string; jdPrice: string }[];
}

export function fromJd(o: JdOrder, shopId: string): OrderSubmission {
  const c = o.consigneeInfo;
  return {
    channel: 'jd',
    channelOrderId: o.orderId,
    shopId,
    customer: { channelCustomerId: o.pin, name: c.fullname, phone: c.mobile, tags: [] },
    shippingAddress: { province: c.province, city: c.city, district: c.county, street: joinAddress(c.town, c.fullAddress), detail: '', recipient: c.fullname, phone: c.mobile },
    lines: o.itemInfoList.map((it, i) => ({
      lineId: `${o.orderId}-${it.skuId}`,
      sku: it.outerSkuId,
      title: it.skuName,
      quantity: positiveInt(it.itemTotal, `itemInfoList[${i}].itemTotal`),
      unitPrice: yuanToFen(it.jdPrice, `itemInfoList[${i}].jdPrice`),
      lineDiscount: 0,
    })),
    shippingFee: yuanToFen(o.freightPrice, 'freightPrice'),
    orderDiscount: o.sellerDiscount ? yuanToFen(o.sellerDiscount, 'sellerDiscount') : 0,
    currency: 'CNY',
    ...(o.orderRemark ? { buyerMessage: o.orderRemark } : {}),
    tags: [],
    attachments: [],
    placedAt: beijingTimeToIso(o.orderStartTime, 'orderStartTime'),
  };
}

// ---- Pinduoduo -----------------------------------------------------------------------------------

export interface PddOrder {
  order_sn: string;
  receiver_name: string;
  receiver_phone: string;
  province: string;
  city: string;
  town: string;
  address: string;
  postage: string;
  discount_amount?: string;
  buyer_memo?: string;
  created_time: string;
  item_list: { goods_id: string; outer_id: string; goods_name: string; goods_count: number; goods_price: string }[];
}

export function fromPinduoduo(o: PddOrder, shopId: string): OrderSubmission {
  return {
    channel: 'pinduoduo',
    channelOrderId: o.order_sn,
    shopId,
    customer: { name: o.receiver_name, phone: o.receiver_phone, tags: [] },
    shippingAddress: { province: o.province, city: o.city, district: o.town, street: o.address, detail: '', recipient: o.receiver_name, phone: o.receiver_phone },
    lines: o.item_list.map((it, i) => ({
      lineId: `${o.order_sn}-${i + 1}`,
      sku: it.outer_id,
      title: it.goods_name,
      quantity: positiveInt(it.goods_count, `item_list[${i}].goods_count`),
      unitPrice: yuanToFen(it.goods_price, `item_list[${i}].goods_price`),
      lineDiscount: 0,
    })),
    shippingFee: yuanToFen(o.postage, 'postage'),
    orderDiscount: o.discount_amount ? yuanToFen(o.discount_amount, 'discount_amount') : 0,
    currency: 'CNY',
    ...(o.buyer_memo ? { buyerMessage: o.buyer_memo } : {}),
    tags: [],
    attachments: [],
    placedAt: beijingTimeToIso(o.created_time, 'created_time'),
  };
}

// ---- Douyin shop (抖店): amounts are fen integers, times unix seconds ----------------------------

export interface DouyinOrder {
  order_id: string;
  doudian_open_id?: string;
  post_receiver: string;
  post_tel: string;
  post_addr: { province: { name: string }; city: { name: string }; town: { name: string }; street?: { name: string }; detail: string };
  post_amount: number;
  promotion_amount?: number;
  buyer_words?: string;
  create_time: number;
  sku_order_list: { sku_order_id: string; code: string; product_name: string; item_num: number; origin_amount: number }[];
}

function fen(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw OrderErrors.invalid(field, `${String(value)} is not an amount in fen`);
  return value;
}

export function fromDouyin(o: DouyinOrder, shopId: string): OrderSubmission {
  const a = o.post_addr;
  return {
    channel: 'douyin',
    channelOrderId: o.order_id,
    shopId,
    customer: { ...(o.doudian_open_id ? { channelCustomerId: o.doudian_open_id } : {}), name: o.post_receiver, phone: o.post_tel, tags: [] },
    shippingAddress: { province: a.province.name, city: a.city.name, district: a.town.name, street: joinAddress(a.street?.name, a.detail), detail: '', recipient: o.post_receiver, phone: o.post_tel },
    lines: o.sku_order_list.map((s, i) => {
      const quantity = positiveInt(s.item_num, `sku_order_list[${i}].item_num`);
      // origin_amount is the line's amount before promotions: the unit price is that over the quantity.
      const lineAmount = fen(s.origin_amount, `sku_order_list[${i}].origin_amount`);
      if (lineAmount % quantity !== 0) throw OrderErrors.invalid(`sku_order_list[${i}].origin_amount`, 'does not divide by item_num');
      return { lineId: s.sku_order_id, sku: s.code, title: s.product_name, quantity, unitPrice: lineAmount / quantity, lineDiscount: 0 };
    }),
    shippingFee: fen(o.post_amount, 'post_amount'),
    orderDiscount: fen(o.promotion_amount ?? 0, 'promotion_amount'),
    currency: 'CNY',
    ...(o.buyer_words ? { buyerMessage: o.buyer_words } : {}),
    tags: [],
    attachments: [],
    placedAt: new Date(fen(o.create_time, 'create_time') * 1000).toISOString(),
  };
}
