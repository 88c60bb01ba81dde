import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { douyinPushSign, douyinSign, jdSign, pddSign, shopifyWebhookHmac, sortedJson, topSign } from '../../src/domain/connectors/signing';
import type { DouyinApiOrder, JdApiOrder, PddApiOrder, TopTrade } from '../../src/domain/connectors/api-mapping';

/**
 * A local fake of the platforms' open APIs, for tests and `npm start` (scripts/fakes/platforms.fake.ts).
 * Every request is checked the way the platform does: the app key, the signature recomputed from the
 * received parameters (TOP: sorted k+v with the request's sign_method; JD and PDD: upper MD5(secret +
 * k+v + secret); Douyin: param_json re-sorted, secret-wrapped string, md5 or HMAC-SHA256), and the window
 * rules (TOP <= 1 day; PDD <= 30 min, ending >= 3 min before the platform's clock; Douyin <= 90 days).
 * Orders are served in pages from windows of their modification time; stock updates are recorded and
 * rate-limited per app key (Douyin sku.syncStock). JD order calls answer only the fields named in
 * `optional_fields` and refuse a request without them (as JD documents it).
 */
export interface PlatformCredentials {
  appKey: string;
  appSecret: string;
}

export interface FakePlatforms {
  url: string;
  creds: { taobao: PlatformCredentials; pinduoduo: PlatformCredentials; douyin: PlatformCredentials; jd: PlatformCredentials };
  /** Orders with their modification time (ISO). Replace an entry to model a status change. */
  top: Map<string, { modified: string; trade: TopTrade }>;
  pdd: Map<string, { modified: string; order: PddApiOrder }>;
  douyin: Map<string, { modified: string; order: DouyinApiOrder }>;
  jd: Map<string, { modified: string; order: JdApiOrder }>;
  /** Every API call: platform, method, whether its signature verified, and the refusal if any. */
  calls: { platform: string; method: string; signatureOk: boolean; refused?: string; params: Record<string, unknown> }[];
  /**
   * Stock updates received, in arrival order: Douyin sku.syncStock, TOP taobao.item.quantity.update,
   * PDD pdd.goods.quantity.update, JD jingdong.stock.write.updateSkuStock (`itemId`: num_iid / goods_id / skuId).
   */
  stockUpdates: { appKey: string; code: string; stockNum: number; at: number; platform?: string; itemId?: string }[];
  /** Stock calls allowed per app key per second before 请求过于频繁 (rate limit). */
  stockRatePerSecond: number;
  close(): Promise<void>;
}

const pad = (n: number) => String(n).padStart(2, '0');
const beijing = (ms: number) => {
  const d = new Date(ms + 8 * 3_600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};
const fromBeijing = (s: string) => Date.parse(`${s.replace(' ', 'T')}+08:00`);

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakePlatforms(options: { port?: number; creds?: Partial<FakePlatforms['creds']> } = {}): Promise<FakePlatforms> {
  const creds: FakePlatforms['creds'] = {
    taobao: { appKey: 'tb-app', appSecret: 'tb-secret' },
    pinduoduo: { appKey: 'pdd-client', appSecret: 'pdd-secret' },
    douyin: { appKey: 'dy-app', appSecret: 'dy-secret' },
    jd: { appKey: 'jd-app', appSecret: 'jd-secret' },
    ...options.creds,
  };
  const fake = {
    creds,
    top: new Map(),
    pdd: new Map(),
    douyin: new Map(),
    jd: new Map(),
    calls: [],
    stockUpdates: [],
    stockRatePerSecond: 5,
  } as unknown as FakePlatforms;

  const page = <T>(items: T[], pageNo: number, size: number) => items.slice((pageNo - 1) * size, pageNo * size);
  const inWindow = (modified: string, start: number, end: number) => Date.parse(modified) >= start && Date.parse(modified) < end;
  const byModified = <T extends { modified: string }>(m: Map<string, T>) => [...m.values()].sort((a, b) => Date.parse(a.modified) - Date.parse(b.modified));

  /** Records a stock update unless the app key already made stockRatePerSecond of them in the last second. */
  function stockUpdate(platform: string, appKey: string, code: string, stockNum: number, itemId?: string): boolean {
    const now = Date.now();
    if (fake.stockUpdates.filter((u) => u.appKey === appKey && now - u.at < 1000).length >= fake.stockRatePerSecond) return false;
    fake.stockUpdates.push({ appKey, code, stockNum, at: now, platform, ...(itemId ? { itemId } : {}) });
    return true;
  }
  const wholeNumber = (v: string | undefined) => v !== undefined && /^[0-9]+$/.test(v);

  function top(params: Record<string, string>): unknown {
    const method = params.method;
    const call = { platform: 'taobao', method, signatureOk: false, params } as FakePlatforms['calls'][number];
    fake.calls.push(call);
    const err = (code: number, msg: string, sub_code?: string) => ((call.refused = sub_code ?? String(code)), { error_response: { code, msg, ...(sub_code ? { sub_code } : {}) } });
    if (params.app_key !== creds.taobao.appKey) return err(29, 'Invalid app Key');
    const sm = params.sign_method as 'md5' | 'hmac' | 'hmac-sha256';
    if (!['md5', 'hmac', 'hmac-sha256'].includes(sm) || topSign(params, creds.taobao.appSecret, sm) !== params.sign) return err(25, 'Invalid signature');
    call.signatureOk = true;
    if (Math.abs(fromBeijing(params.timestamp) - Date.now()) > 10 * 60_000) return err(43, 'Invalid timestamp');
    if (method === 'taobao.time.get') return { time_get_response: { time: beijing(Date.now()) } };
    if (method === 'taobao.trades.sold.increment.get') {
      const start = fromBeijing(params.start_modified);
      const end = fromBeijing(params.end_modified);
      if (!(end > start) || end - start > 24 * 3_600_000) return err(15, 'Remote service error', 'isv.invalid-parameter:start_modified-end_modified');
      const all = byModified(fake.top).filter((x) => inWindow(x.modified, start, end));
      const size = Number(params.page_size ?? 40);
      const items = page(all, Number(params.page_no ?? 1), size).map((x) => x.trade);
      return { trades_sold_increment_get_response: { total_results: all.length, has_next: Number(params.page_no) * size < all.length, trades: { trade: items } } };
    }
    if (method === 'taobao.item.quantity.update') {
      if (!wholeNumber(params.num_iid) || !wholeNumber(params.quantity)) return err(41, 'Invalid arguments', 'isv.missing-parameter:num_iid-quantity');
      if (params.type !== undefined && params.type !== '1' && params.type !== '2') return err(41, 'Invalid arguments', 'isv.invalid-parameter:type');
      if (!stockUpdate('taobao', creds.taobao.appKey, params.outer_id ?? '', Number(params.quantity), params.num_iid)) return err(7, 'App Call Limited', 'accesscontrol.limited-by-api-access-count');
      return { item_quantity_update_response: { item: { num_iid: Number(params.num_iid), num: Number(params.quantity), modified: beijing(Date.now()) } } };
    }
    if (method === 'taobao.trade.fullinfo.get') {
      const t = fake.top.get(params.tid);
      return t ? { trade_fullinfo_get_response: { trade: t.trade } } : err(15, 'Remote service error', 'isv.trade-not-exist');
    }
    return err(22, 'Invalid method');
  }

  function pdd(params: Record<string, string>): unknown {
    const call = { platform: 'pinduoduo', method: params.type, signatureOk: false, params } as FakePlatforms['calls'][number];
    fake.calls.push(call);
    const err = (code: number, msg: string) => ((call.refused = String(code)), { error_response: { error_code: code, error_msg: msg } });
    if (params.client_id !== creds.pinduoduo.appKey) return err(10016, 'client_id不存在');
    if (pddSign(params, creds.pinduoduo.appSecret) !== params.sign) return err(10019, '签名验证失败');
    call.signatureOk = true;
    if (params.type === 'pdd.time.get') return { time_get_response: { time: beijing(Date.now()) } };
    if (params.type === 'pdd.order.number.list.increment.get') {
      const start = Number(params.start_updated_at) * 1000;
      const end = Number(params.end_updated_at) * 1000;
      if (!(end > start) || end - start > 30 * 60_000) return err(10000, '开始时间与结束时间间隔不能超过30分钟');
      if (end > Date.now() - 3 * 60_000) return err(10000, '结束时间需早于当前时间3分钟');
      const all = byModified(fake.pdd).filter((x) => inWindow(x.modified, start, end));
      const size = Number(params.page_size ?? 100);
      const p = Number(params.page ?? 1);
      return { order_sn_increment_get_response: { total_count: all.length, has_next: p * size < all.length, order_sn_list: page(all, p, size).map((x) => x.order) } };
    }
    if (params.type === 'pdd.goods.quantity.update') {
      if (!wholeNumber(params.goods_id) || !wholeNumber(params.quantity)) return err(10000, '参数错误: goods_id / quantity');
      if (params.update_type !== undefined && params.update_type !== '1' && params.update_type !== '2') return err(10000, '参数错误: update_type');
      if (!stockUpdate('pinduoduo', creds.pinduoduo.appKey, params.outer_id ?? '', Number(params.quantity), params.goods_id)) return err(70031, '调用过于频繁');
      return { goods_quantity_update_response: { is_success: true } };
    }
    if (params.type === 'pdd.order.information.get') {
      const o = fake.pdd.get(params.order_sn);
      return o ? { order_info_get_response: { order_info: o.order } } : err(10000, '订单不存在');
    }
    return err(10000, '接口不存在');
  }

  function jd(params: Record<string, string>): unknown {
    const call = { platform: 'jd', method: params.method, signatureOk: false, params } as FakePlatforms['calls'][number];
    fake.calls.push(call);
    const err = (code: string, msg: string) => ((call.refused = code), { error_response: { code, zh_desc: msg, en_desc: msg } });
    if (params.app_key !== creds.jd.appKey) return err('19', 'app_key无效');
    if (jdSign(params, creds.jd.appSecret) !== params.sign) return err('19', '签名无效');
    call.signatureOk = true;
    if (Math.abs(fromBeijing(params.timestamp) - Date.now()) > 10 * 60_000) return err('17', '时间戳无效');
    const biz = JSON.parse(params['360buy_param_json'] ?? '{}') as Record<string, string>;
    // JD returns only the order fields named in optional_fields; without them the request is refused (JD's docs: 必填).
    const fields = String(biz.optional_fields ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    const shown = (o: JdApiOrder) => Object.fromEntries(Object.entries(o).filter(([k]) => fields.includes(k)));
    if ((params.method === 'jingdong.pop.order.search' || params.method === 'jingdong.pop.order.get') && fields.length === 0) return err('67', '参数错误: optional_fields 不能为空');
    if (params.method === 'jingdong.pop.order.search') {
      const start = fromBeijing(biz.start_date);
      const end = fromBeijing(biz.end_date);
      if (!(end > start) || end - start > 30 * 86_400_000) return err('66', '查询时间跨度不能超过一个月');
      const all = byModified(fake.jd).filter((x) => inWindow(x.modified, start, end));
      // page_size is 1-50 (JD's docs for jingdong.pop.order.search); a larger one is refused.
      const size = Number(biz.page_size ?? 20);
      if (!Number.isInteger(size) || size < 1 || size > 50) return err('67', '参数错误: page_size 取值范围 1-50');
      return { jingdong_pop_order_search_responce: { searchorderinfo_result: { orderTotal: all.length, orderInfoList: page(all, Number(biz.page ?? 1), size).map((x) => shown(x.order)) } } };
    }
    if (params.method === 'jingdong.stock.write.updateSkuStock') {
      const b = biz as unknown as { skuId?: unknown; stockNum?: unknown };
      if (!wholeNumber(String(b.skuId ?? '')) || !Number.isInteger(b.stockNum) || (b.stockNum as number) < 0) return err('67', '参数错误: skuId / stockNum');
      if (!stockUpdate('jd', creds.jd.appKey, '', b.stockNum as number, String(b.skuId))) return err('61', '调用频率超限');
      return { jingdong_stock_write_updateSkuStock_responce: { code: '0', success: true } };
    }
    if (params.method === 'jingdong.pop.order.get') {
      const o = fake.jd.get(String(biz.order_id));
      return o ? { jingdong_pop_order_get_responce: { orderDetailInfo: { orderInfo: shown(o.order) } } } : err('66', '订单不存在');
    }
    return err('21', '方法不存在');
  }

  function douyin(path: string, q: URLSearchParams, raw: string): unknown {
    const method = q.get('method') ?? '';
    let param: Record<string, unknown> = {};
    const call = { platform: 'douyin', method, signatureOk: false, params: {} } as FakePlatforms['calls'][number];
    fake.calls.push(call);
    const err = (code: number, msg: string) => ((call.refused = String(code)), { code, msg, sub_code: '', data: {} });
    try {
      param = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return err(40004, 'param_json 格式错误');
    }
    call.params = param;
    if (q.get('app_key') !== creds.douyin.appKey) return err(30001, 'app_key不存在');
    if (`/${method.replace('.', '/')}` !== path || q.get('v') !== '2') return err(40003, 'method 与路径不符');
    const signMethod = (q.get('sign_method') ?? 'md5') as 'md5' | 'hmac-sha256';
    const expected = douyinSign({ appKey: creds.douyin.appKey, method, paramJson: sortedJson(param), timestamp: q.get('timestamp') ?? '' }, creds.douyin.appSecret, signMethod);
    if (expected !== q.get('sign')) return err(40041, '签名校验失败');
    call.signatureOk = true;
    const ok = (data: unknown) => ({ code: 10000, msg: 'success', data });
    if (method === 'order.searchList') {
      const start = Number(param.update_time_start) * 1000;
      const end = Number(param.update_time_end) * 1000;
      if (!(end > start) || end - start > 90 * 86_400_000) return err(40004, '时间范围不能超过90天');
      const all = byModified(fake.douyin).filter((x) => inWindow(x.modified, start, end));
      const size = Number(param.size ?? 20);
      const p = Number(param.page ?? 0);
      return ok({ shop_order_list: page(all, p + 1, size).map((x) => x.order), total: all.length, page: p, size });
    }
    if (method === 'order.orderDetail') {
      const o = fake.douyin.get(String(param.shop_order_id));
      return o ? ok({ shop_order_detail: o.order }) : err(40004, '订单不存在');
    }
    if (method === 'sku.syncStock') {
      if (!stockUpdate('douyin', creds.douyin.appKey, String(param.code), Number(param.stock_num))) return err(50002, '请求过于频繁');
      return ok({});
    }
    return err(40003, '接口不存在');
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = (await body(req)).toString('utf8');
      let out: unknown;
      if (url.pathname === '/router/rest') out = top(Object.fromEntries(new URLSearchParams(raw)));
      else if (url.pathname === '/api/router') out = pdd(Object.fromEntries(new URLSearchParams(raw)));
      else if (url.pathname === '/routerjson') out = jd(Object.fromEntries(new URLSearchParams(raw)));
      else out = douyin(url.pathname, url.searchParams, raw);
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
      res.end(JSON.stringify(out));
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise<void>((r) => server.close(() => r()));
  return fake;
}

/** Signs a Douyin push the way Douyin does (header event-sign), for tests and the demo. */
export function signDouyinPush(creds: PlatformCredentials, rawBody: string): string {
  return douyinPushSign(creds.appKey, rawBody, creds.appSecret);
}

/** Signs a Shopify webhook the way Shopify does (header X-Shopify-Hmac-Sha256). */
export function signShopifyWebhook(secret: string, rawBody: string): string {
  return shopifyWebhookHmac(rawBody, secret);
}
