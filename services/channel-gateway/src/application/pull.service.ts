import { DomainError } from '@flowline/domain';
import { nextWindow } from '../domain/connectors/windows';
import type { ChannelOrderDraft } from '../domain/import/map-orders';
import { reason, type RejectReason } from '../domain/import/rejections';
import { verifyDouyinPush, verifyShopifyWebhook } from '../domain/connectors/signing';
import { fromShopifyOrder, ApiPayloadError, type ShopifyOrder } from '../domain/connectors/api-mapping';
import type { ChannelStore } from './channel-store.port';
import type { OrderPullConnector, ShopAccount } from './connector.port';
import type { RefusedChangeReport } from './import-report';
import type { ImportService } from './import.service';

export interface PullResult {
  platform: string;
  shopId: string;
  windows: { start: string; end: string }[];
  orders: number;
  imported: number;
  updated: number;
  duplicates: number;
  /** Group-buy orders whose group has not formed: not placed yet. */
  waiting: number;
  rejected: number;
  /** Platform changes the flow refused or that need a person (e.g. a status back from a cancel): as in the import report. */
  refusedChanges: RefusedChangeReport[];
  checkpoint: string | null;
}

const apiProfile = (platform: string) => ({ id: `api-${platform}`, version: 1 });

/**
 * API pulls and pushes. A pull walks a shop's windows from its checkpoint up to the platform's
 * clock (each window no wider and no closer to "now" than the platform allows), syncs every order
 * like a file import does, and moves the checkpoint past a window only once all its orders are
 * synced. Pushes are verified, then the pushed order goes through the same sync: a missed push is
 * picked up by the next pull, and a pushed order seen again by a pull is a duplicate.
 */
export class PullService {
  constructor(
    private readonly deps: {
      store: ChannelStore;
      imports: ImportService;
      connectors: OrderPullConnector[];
      shops: ShopAccount[];
      now(): Date;
      /** Where a shop's first pull starts, back from now. */
      initialLookbackMs: number;
    },
  ) {}

  shop(platform: string, shopId: string): ShopAccount {
    const s = this.deps.shops.find((x) => x.platform === platform && x.shopId === shopId);
    if (!s) throw new DomainError('SHOP_NOT_CONFIGURED', `no ${platform} shop ${shopId} in CHANNEL_SHOPS`, { platform, shopId }, 'not_found');
    return s;
  }

  private connector(platform: string): OrderPullConnector {
    const c = this.deps.connectors.find((x) => x.platform === platform);
    if (!c) throw new DomainError('CONNECTOR_NOT_AVAILABLE', `no order API connector for ${platform}`, { platform }, 'invalid');
    return c;
  }

  async pullAll(): Promise<PullResult[]> {
    const out: PullResult[] = [];
    for (const s of this.deps.shops.filter((x) => x.platform !== 'shopify')) out.push(await this.pull(s.platform, s.shopId));
    return out;
  }

  async pull(platform: string, shopId: string): Promise<PullResult> {
    const shop = this.shop(platform, shopId);
    const connector = this.connector(platform);
    const { store } = this.deps;
    const result: PullResult = { platform, shopId, windows: [], orders: 0, imported: 0, updated: 0, duplicates: 0, waiting: 0, rejected: 0, refusedChanges: [], checkpoint: null };
    let cp = (await store.checkpoint(platform, shopId)) ?? new Date(this.deps.now().getTime() - this.deps.initialLookbackMs).toISOString();
    const serverNow = await connector.serverTime(shop);
    for (let w = nextWindow(connector.platform, cp, serverNow); w; w = nextWindow(connector.platform, cp, serverNow)) {
      const page = await connector.ordersModifiedIn(shop, w);
      for (const d of page.orders) await this.syncOne(d, platform, result);
      for (const f of page.failures) {
        await this.quarantineApi(platform, shop, f.channelOrderId, f.raw, [{ code: 'BAD_PAYLOAD', zh: `接口数据无法读取：${f.reason}`, en: `order payload unreadable: ${f.reason}` }]);
        result.rejected += 1;
      }
      await store.saveCheckpoint(platform, shopId, w.end);
      result.windows.push(w);
      cp = w.end;
    }
    result.checkpoint = cp;
    return result;
  }

  private async syncOne(d: ChannelOrderDraft, platform: string, result: PullResult): Promise<void> {
    result.orders += 1;
    const out = await this.deps.imports.sync(d, apiProfile(platform), null, false);
    if (out.kind === 'rejected') {
      result.rejected += 1;
      await this.quarantineApi(platform, this.shop(platform, d.shopId), d.channelOrderId, d.rawRows[0], out.reasons);
    } else if (out.kind === 'waiting') result.waiting += 1;
    else {
      result.refusedChanges.push(...out.refused);
      if (out.kind !== 'refused') result[out.kind === 'imported' ? 'imported' : out.kind === 'updated' ? 'updated' : 'duplicates'] += 1;
    }
  }

  private async quarantineApi(platform: string, shop: ShopAccount, channelOrderId: string, raw: unknown, reasons: RejectReason[]): Promise<void> {
    await this.deps.store.quarantine({
      runId: null,
      channel: platform === 'shopify' ? 'web' : platform === 'taobao' ? (shop.channel ?? 'taobao') : (platform as 'jd' | 'pinduoduo' | 'douyin'),
      channelOrderId,
      ...{ profileId: apiProfile(platform).id, profileVersion: 1 },
      // The payload (a person may correct it) and where it came from, so the fix endpoint can map it again.
      orderTable: { headers: ['payload', 'platform', 'shopId'], rows: [{ rowNumber: 1, cells: [JSON.stringify(raw), platform, shop.shopId] }] },
      shopId: shop.shopId,
      itemsTable: null,
      reasons,
    });
  }

  /**
   * A Douyin push (消息推送): verified with event-sign = md5(app_key + body + app_secret), then each
   * message's order is fetched by id and synced. Messages are `[{tag, msg: "{...p_id / order_id, shop_id...}"}]`.
   */
  async douyinPush(shopId: string, rawBody: Buffer, eventSign: string | undefined): Promise<{ orders: number }> {
    const shop = this.shop('douyin', shopId);
    if (!verifyDouyinPush(shop.appKey, shop.appSecret, rawBody, eventSign)) throw pushRefused('douyin');
    let messages: { tag: string; msg: string }[];
    try {
      messages = JSON.parse(rawBody.toString('utf8')) as { tag: string; msg: string }[];
    } catch {
      throw new DomainError('PUSH_BODY_INVALID', 'push body is not JSON', { field: 'body' }, 'invalid');
    }
    const ids = new Set<string>();
    for (const m of Array.isArray(messages) ? messages : []) {
      if (m.tag === '0') continue; // connectivity test message
      try {
        const body = JSON.parse(m.msg) as { p_id?: string | number; order_id?: string | number };
        const id = body.p_id ?? body.order_id;
        if (id !== undefined) ids.add(String(id));
      } catch {
        /* a message without an order: nothing to sync */
      }
    }
    const result: PullResult = { platform: 'douyin', shopId, windows: [], orders: 0, imported: 0, updated: 0, duplicates: 0, waiting: 0, rejected: 0, refusedChanges: [], checkpoint: null };
    for (const id of ids) {
      const page = await this.connector('douyin').order(shop, id);
      for (const d of page.orders) await this.syncOne(d, 'douyin', result);
    }
    return { orders: result.orders };
  }

  /** A Shopify webhook (orders/create, orders/updated, orders/paid ...): HMAC verified, then the order synced. */
  async shopifyWebhook(shopId: string, rawBody: Buffer, hmacHeader: string | undefined): Promise<{ orders: number }> {
    const shop = this.shop('shopify', shopId);
    if (!verifyShopifyWebhook(shop.appSecret, rawBody, hmacHeader)) throw pushRefused('shopify');
    let order: ShopifyOrder;
    try {
      order = JSON.parse(rawBody.toString('utf8')) as ShopifyOrder;
    } catch {
      throw new DomainError('PUSH_BODY_INVALID', 'webhook body is not JSON', { field: 'body' }, 'invalid');
    }
    const result: PullResult = { platform: 'shopify', shopId, windows: [], orders: 0, imported: 0, updated: 0, duplicates: 0, waiting: 0, rejected: 0, refusedChanges: [], checkpoint: null };
    try {
      await this.syncOne(fromShopifyOrder(order, shopId), 'shopify', result);
    } catch (e) {
      if (!(e instanceof ApiPayloadError)) throw e;
      await this.quarantineApi('shopify', shop, String(order.name ?? order.id), order, [reason.refused('PAYLOAD', e.message)]);
    }
    return { orders: result.orders };
  }
}

function pushRefused(platform: string): DomainError {
  return new DomainError('PUSH_SIGNATURE_INVALID', `${platform} push signature does not verify`, { platform }, 'invalid');
}
