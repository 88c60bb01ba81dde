import { ApiPayloadError, fromDouyinOrder, fromJdOrder, JD_ORDER_FIELDS, fromPddOrder, fromTopTrade, type DouyinApiOrder, type JdApiOrder, type PddApiOrder, type TopTrade } from '../../domain/connectors/api-mapping';
import { douyinSign, jdSign, pddSign, sortedJson, topSign } from '../../domain/connectors/signing';
import type { ChannelOrderDraft } from '../../domain/import/map-orders';
import { PlatformApiError, type OrderPage, type OrderPullConnector, type ShopAccount } from '../../application/connector.port';

/** jingdong.pop.order.search answers at most 50 orders per page (page_size 1-50 in JD's API docs). */
const JD_PAGE_SIZE = 50;

const pad = (n: number) => String(n).padStart(2, '0');
/** "yyyy-MM-dd HH:mm:ss" in Beijing time, the format TOP and JD take. */
export function beijing(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3_600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
const unixSec = (iso: string) => String(Math.floor(Date.parse(iso) / 1000));

function collect<T>(items: T[], idOf: (t: T) => string, map: (t: T) => ChannelOrderDraft, page: OrderPage): void {
  for (const it of items) {
    try {
      page.orders.push(map(it));
    } catch (e) {
      if (!(e instanceof ApiPayloadError)) throw e;
      page.failures.push({ channelOrderId: idOf(it), reason: e.message, raw: it });
    }
  }
}

async function postForm(url: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' }, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as Record<string, unknown>;
}

/**
 * Taobao TOP (taobao.trades.sold.increment.get): windows of at most a day, paged from the last page
 * back, so orders that move while we page (they leave one page and join another) are not missed.
 */
export class TopConnector implements OrderPullConnector {
  readonly platform = 'taobao' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  private async call(shop: ShopAccount, method: string, biz: Record<string, string>): Promise<Record<string, unknown>> {
    const params: Record<string, string> = { method, app_key: shop.appKey, session: shop.accessToken ?? '', timestamp: beijing(this.now().toISOString()), format: 'json', v: '2.0', sign_method: 'hmac-sha256', ...biz };
    params.sign = topSign(params, shop.appSecret, 'hmac-sha256');
    const json = await postForm(`${shop.baseUrl}/router/rest`, params);
    const err = json.error_response as { code?: number; msg?: string; sub_code?: string } | undefined;
    if (err) throw new PlatformApiError('taobao', String(err.sub_code ?? err.code), err.msg ?? 'error');
    return json;
  }

  async serverTime(shop: ShopAccount): Promise<string> {
    const r = (await this.call(shop, 'taobao.time.get', {})).time_get_response as { time: string };
    const t = Date.parse(`${r.time.replace(' ', 'T')}+08:00`);
    return new Date(t).toISOString();
  }

  async ordersModifiedIn(shop: ShopAccount, w: { start: string; end: string }): Promise<OrderPage> {
    const size = 100;
    const biz = (page: number, pageSize: number) => ({ fields: 'tid_str,status,created,pay_time,payment,post_fee,buyer_nick,receiver_name,receiver_mobile,receiver_state,receiver_city,receiver_district,receiver_town,receiver_address,buyer_message,orders', start_modified: beijing(w.start), end_modified: beijing(w.end), page_no: String(page), page_size: String(pageSize), use_has_next: 'false' });
    type Resp = { total_results: number; trades?: { trade: TopTrade[] } };
    // The count first (one trade), then the pages from the last back to the first.
    const count = (await this.call(shop, 'taobao.trades.sold.increment.get', biz(1, 1))).trades_sold_increment_get_response as Resp;
    const out: OrderPage = { orders: [], failures: [] };
    const map = (t: TopTrade) => fromTopTrade(t, shop.shopId, shop.channel ?? 'taobao');
    const seen = new Set<string>();
    for (let p = Math.ceil(count.total_results / size); p >= 1; p--) {
      const r = (await this.call(shop, 'taobao.trades.sold.increment.get', biz(p, size))).trades_sold_increment_get_response as Resp;
      // A trade modified while we page can show on two pages: once is enough.
      collect((r.trades?.trade ?? []).filter((t) => !seen.has(t.tid_str) && seen.add(t.tid_str)), (t) => t.tid_str, map, out);
    }
    return out;
  }

  async order(shop: ShopAccount, tid: string): Promise<OrderPage> {
    const r = (await this.call(shop, 'taobao.trade.fullinfo.get', { tid, fields: 'tid_str,status,created,pay_time,payment,post_fee,orders' })).trade_fullinfo_get_response as { trade: TopTrade };
    const out: OrderPage = { orders: [], failures: [] };
    collect([r.trade], (t) => t.tid_str, (t) => fromTopTrade(t, shop.shopId, shop.channel ?? 'taobao'), out);
    return out;
  }
}

/** Pinduoduo (pdd.order.number.list.increment.get): windows of at most 30 minutes, 3 minutes behind its clock. */
export class PddConnector implements OrderPullConnector {
  readonly platform = 'pinduoduo' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  private async call(shop: ShopAccount, type: string, biz: Record<string, string>): Promise<Record<string, unknown>> {
    const params: Record<string, string> = { type, client_id: shop.appKey, access_token: shop.accessToken ?? '', timestamp: unixSec(this.now().toISOString()), data_type: 'JSON', ...biz };
    params.sign = pddSign(params, shop.appSecret);
    const json = await postForm(`${shop.baseUrl}/api/router`, params);
    const err = json.error_response as { error_code?: number; error_msg?: string } | undefined;
    if (err) throw new PlatformApiError('pinduoduo', String(err.error_code), err.error_msg ?? 'error');
    return json;
  }

  async serverTime(shop: ShopAccount): Promise<string> {
    const r = (await this.call(shop, 'pdd.time.get', {})).time_get_response as { time: string };
    return new Date(Date.parse(`${r.time.replace(' ', 'T')}+08:00`)).toISOString();
  }

  async ordersModifiedIn(shop: ShopAccount, w: { start: string; end: string }): Promise<OrderPage> {
    const out: OrderPage = { orders: [], failures: [] };
    for (let page = 1; ; page++) {
      const r = (await this.call(shop, 'pdd.order.number.list.increment.get', { is_lucky_flag: '0', order_status: '5', refund_status: '5', start_updated_at: unixSec(w.start), end_updated_at: unixSec(w.end), page: String(page), page_size: '100', use_has_next: 'true' }))
        .order_sn_increment_get_response as { has_next: boolean; order_sn_list: PddApiOrder[] };
      collect(r.order_sn_list, (o) => o.order_sn, (o) => fromPddOrder(o, shop.shopId), out);
      if (!r.has_next) return out;
    }
  }

  async order(shop: ShopAccount, orderSn: string): Promise<OrderPage> {
    const r = (await this.call(shop, 'pdd.order.information.get', { order_sn: orderSn })).order_info_get_response as { order_info: PddApiOrder };
    const out: OrderPage = { orders: [], failures: [] };
    collect([r.order_info], (o) => o.order_sn, (o) => fromPddOrder(o, shop.shopId), out);
    return out;
  }
}

/** Douyin shop (order.searchList, order.orderDetail): windows of at most 90 days, paged from 0. */
export class DouyinConnector implements OrderPullConnector {
  readonly platform = 'douyin' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  private async call(shop: ShopAccount, method: string, param: Record<string, unknown>): Promise<Record<string, unknown>> {
    const paramJson = sortedJson(param);
    const timestamp = unixSec(this.now().toISOString());
    const sign = douyinSign({ appKey: shop.appKey, method, paramJson, timestamp }, shop.appSecret, 'hmac-sha256');
    const q = new URLSearchParams({ app_key: shop.appKey, method, v: '2', timestamp, sign, sign_method: 'hmac-sha256', access_token: shop.accessToken ?? '' });
    const res = await fetch(`${shop.baseUrl}/${method.replace('.', '/')}?${q.toString()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: paramJson, signal: AbortSignal.timeout(30_000) });
    const json = (await res.json()) as { code: number; msg: string; data?: Record<string, unknown> };
    if (json.code !== 10000) throw new PlatformApiError('douyin', String(json.code), json.msg);
    return json.data ?? {};
  }

  async serverTime(): Promise<string> {
    // Douyin has no time API; its windows are wide (90 days) and need no lag.
    return this.now().toISOString();
  }

  async ordersModifiedIn(shop: ShopAccount, w: { start: string; end: string }): Promise<OrderPage> {
    const out: OrderPage = { orders: [], failures: [] };
    for (let page = 0; ; page++) {
      const d = (await this.call(shop, 'order.searchList', { update_time_start: Number(unixSec(w.start)), update_time_end: Number(unixSec(w.end)), page, size: 50, order_by: 'update_time', order_asc: true })) as { shop_order_list: DouyinApiOrder[]; total: number; size: number };
      collect(d.shop_order_list, (o) => o.order_id, (o) => fromDouyinOrder(o, shop.shopId), out);
      if ((page + 1) * d.size >= d.total || d.shop_order_list.length === 0) return out;
    }
  }

  async order(shop: ShopAccount, orderId: string): Promise<OrderPage> {
    const d = (await this.call(shop, 'order.orderDetail', { shop_order_id: orderId })) as { shop_order_detail: DouyinApiOrder };
    const out: OrderPage = { orders: [], failures: [] };
    collect([d.shop_order_detail], (o) => o.order_id, (o) => fromDouyinOrder(o, shop.shopId), out);
    return out;
  }
}

/** Douyin sku.syncStock: the SKU's sellable quantity on the shop (incremental=false: a full update). */
export class DouyinStockAdapter {
  readonly platform = 'douyin' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  async setQuantity(shop: ShopAccount, sku: string, quantity: number): Promise<void> {
    const method = 'sku.syncStock';
    const paramJson = sortedJson({ code: sku, stock_num: quantity, incremental: false });
    const timestamp = unixSec(this.now().toISOString());
    const sign = douyinSign({ appKey: shop.appKey, method, paramJson, timestamp }, shop.appSecret, 'hmac-sha256');
    const q = new URLSearchParams({ app_key: shop.appKey, method, v: '2', timestamp, sign, sign_method: 'hmac-sha256', access_token: shop.accessToken ?? '' });
    const res = await fetch(`${shop.baseUrl}/sku/syncStock?${q.toString()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: paramJson, signal: AbortSignal.timeout(30_000) });
    const json = (await res.json()) as { code: number; msg: string };
    if (json.code !== 10000) throw new PlatformApiError('douyin', String(json.code), json.msg);
  }
}

/** The platform's item id of a SKU on a shop (ShopAccount.listings); a SKU not listed there cannot be pushed. */
function listing(shop: ShopAccount, sku: string): string {
  const id = shop.listings?.[sku];
  if (!id) throw new PlatformApiError(shop.platform, 'NO_LISTING', `SKU ${sku} has no item id on shop ${shop.shopId} (CHANNEL_SHOPS listings)`);
  return id;
}

/**
 * Taobao / Tmall taobao.item.quantity.update through TOP (signed like every TOP call): the item
 * (num_iid) and the SKU by its merchant code (outer_id), type=1 (full update: the quantity replaces it).
 */
export class TopStockAdapter {
  readonly platform = 'taobao' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  async setQuantity(shop: ShopAccount, sku: string, quantity: number): Promise<void> {
    const params: Record<string, string> = {
      method: 'taobao.item.quantity.update', app_key: shop.appKey, session: shop.accessToken ?? '', timestamp: beijing(this.now().toISOString()), format: 'json', v: '2.0', sign_method: 'hmac-sha256',
      num_iid: listing(shop, sku), outer_id: sku, quantity: String(quantity), type: '1',
    };
    params.sign = topSign(params, shop.appSecret, 'hmac-sha256');
    const json = await postForm(`${shop.baseUrl}/router/rest`, params);
    const err = json.error_response as { code?: number; msg?: string; sub_code?: string } | undefined;
    if (err) throw new PlatformApiError('taobao', String(err.sub_code ?? err.code), err.msg ?? 'error');
  }
}

/** Pinduoduo pdd.goods.quantity.update: goods_id + the SKU's merchant code (outer_id), update_type=1 (full update). */
export class PddStockAdapter {
  readonly platform = 'pinduoduo' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  async setQuantity(shop: ShopAccount, sku: string, quantity: number): Promise<void> {
    const params: Record<string, string> = {
      type: 'pdd.goods.quantity.update', client_id: shop.appKey, access_token: shop.accessToken ?? '', timestamp: unixSec(this.now().toISOString()), data_type: 'JSON',
      goods_id: listing(shop, sku), outer_id: sku, quantity: String(quantity), update_type: '1',
    };
    params.sign = pddSign(params, shop.appSecret);
    const json = await postForm(`${shop.baseUrl}/api/router`, params);
    const err = json.error_response as { error_code?: number; error_msg?: string } | undefined;
    if (err) throw new PlatformApiError('pinduoduo', String(err.error_code), err.error_msg ?? 'error');
  }
}

/** JD jingdong.stock.write.updateSkuStock: the JD skuId's sellable stock (stockNum, a full update), signed like every JD call. */
export class JdStockAdapter {
  readonly platform = 'jd' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  async setQuantity(shop: ShopAccount, sku: string, quantity: number): Promise<void> {
    const params: Record<string, string> = {
      method: 'jingdong.stock.write.updateSkuStock', app_key: shop.appKey, access_token: shop.accessToken ?? '', timestamp: beijing(this.now().toISOString()), v: '2.0',
      '360buy_param_json': JSON.stringify({ skuId: listing(shop, sku), stockNum: quantity }),
    };
    params.sign = jdSign(params, shop.appSecret);
    const json = await postForm(`${shop.baseUrl}/routerjson`, params);
    const err = json.error_response as { code?: string; zh_desc?: string; en_desc?: string } | undefined;
    if (err) throw new PlatformApiError('jd', String(err.code), err.zh_desc ?? err.en_desc ?? 'error');
  }
}

/** JD (jingdong.pop.order.search by modification time): windows of at most a month, pages from 1; the fields read are named (optional_fields). */
export class JdConnector implements OrderPullConnector {
  readonly platform = 'jd' as const;
  constructor(private readonly now: () => Date = () => new Date()) {}

  private async call(shop: ShopAccount, method: string, biz: Record<string, unknown>): Promise<Record<string, unknown>> {
    const params: Record<string, string> = { method, app_key: shop.appKey, access_token: shop.accessToken ?? '', timestamp: beijing(this.now().toISOString()), v: '2.0', '360buy_param_json': JSON.stringify(biz) };
    params.sign = jdSign(params, shop.appSecret);
    const json = await postForm(`${shop.baseUrl}/routerjson`, params);
    const err = json.error_response as { code?: string; zh_desc?: string; en_desc?: string } | undefined;
    if (err) throw new PlatformApiError('jd', String(err.code), err.zh_desc ?? err.en_desc ?? 'error');
    return json;
  }

  async serverTime(): Promise<string> {
    return this.now().toISOString();
  }

  async ordersModifiedIn(shop: ShopAccount, w: { start: string; end: string }): Promise<OrderPage> {
    const out: OrderPage = { orders: [], failures: [] };
    for (let page = 1; ; page++) {
      const r = (await this.call(shop, 'jingdong.pop.order.search', { start_date: beijing(w.start), end_date: beijing(w.end), order_state: 'WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED,LOCKED', optional_fields: JD_ORDER_FIELDS.join(','), dateType: 0, page: String(page), page_size: String(JD_PAGE_SIZE) }))
        .jingdong_pop_order_search_responce as { searchorderinfo_result: { orderTotal: number; orderInfoList: JdApiOrder[] } };
      const res = r.searchorderinfo_result;
      collect(res.orderInfoList, (o) => o.orderId, (o) => fromJdOrder(o, shop.shopId), out);
      if (page * JD_PAGE_SIZE >= res.orderTotal || res.orderInfoList.length === 0) return out;
    }
  }

  async order(shop: ShopAccount, orderId: string): Promise<OrderPage> {
    const r = (await this.call(shop, 'jingdong.pop.order.get', { order_id: orderId, optional_fields: JD_ORDER_FIELDS.join(',') })).jingdong_pop_order_get_responce as { orderDetailInfo: { orderInfo: JdApiOrder } };
    const out: OrderPage = { orders: [], failures: [] };
    collect([r.orderDetailInfo.orderInfo], (o) => o.orderId, (o) => fromJdOrder(o, shop.shopId), out);
    return out;
  }
}
