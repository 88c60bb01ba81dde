import type { Pool } from 'pg';
import { allowance, platformsOfChannel, RATE_WINDOW_MS } from '../domain/stock/stock-push.policy';
import type { ShopAccount } from './connector.port';

/** One platform's stock API: set a SKU's sellable quantity on a shop (full update, not a delta). */
export interface StockAdapter {
  readonly platform: string;
  setQuantity(shop: ShopAccount, sku: string, quantity: number): Promise<void>;
}

/** Something the Kafka consumer's transaction can run SQL on. */
export interface Sql {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Inventory's AvailableToPromiseChanged -> every shop of that channel. The consumer only records
 * the newest ATP per (shop, SKU) (in the inbox transaction, so a redelivered event changes
 * nothing); the pusher sends what is due, coalesced, at most `perSecond` updates per shop.
 */
export class StockPushService {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly deps: { pool: Pool; shops: ShopAccount[]; adapters: StockAdapter[]; perSecond: number; now(): number },
  ) {}

  /** Called in the consumer's transaction. `version` orders changes of one SKU (the event's stream position). */
  async recordAtp(tx: Sql, data: { sku: string; channel: string; atp: number }, version: number): Promise<void> {
    const platforms = platformsOfChannel(data.channel);
    for (const shop of this.deps.shops.filter((s) => platforms.includes(s.platform) && (s.platform !== 'taobao' || (s.channel ?? 'taobao') === data.channel))) {
      await tx.query(
        `INSERT INTO stock_push (platform, shop_id, sku, atp, version) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (platform, shop_id, sku) DO UPDATE SET atp = EXCLUDED.atp, version = EXCLUDED.version
         WHERE stock_push.version < EXCLUDED.version`,
        [shop.platform, shop.shopId, data.sku, data.atp, version],
      );
    }
  }

  /** One round: push every due (shop, SKU) the shop's allowance permits. Returns how many were sent. */
  async pushDue(): Promise<number> {
    const { rows } = await this.deps.pool.query<{ platform: string; shop_id: string; sku: string; atp: number; version: string }>(
      `SELECT platform, shop_id, sku, atp, version FROM stock_push WHERE version > pushed_version ORDER BY version LIMIT 500`,
    );
    let sent = 0;
    for (const r of rows) {
      const shop = this.deps.shops.find((s) => s.platform === r.platform && s.shopId === r.shop_id);
      const adapter = this.deps.adapters.find((a) => a.platform === r.platform);
      if (!shop || !adapter) continue;
      const key = `${r.platform}/${r.shop_id}`;
      const now = this.deps.now();
      const times = (this.sent.get(key) ?? []).filter((t) => now - t < RATE_WINDOW_MS);
      if (allowance(times, now, this.deps.perSecond) <= 0) continue;
      times.push(now);
      this.sent.set(key, times);
      try {
        await adapter.setQuantity(shop, r.sku, r.atp);
        await this.deps.pool.query(
          `UPDATE stock_push SET pushed_version = $4, pushed_atp = $5, pushed_at = now(), attempts = 0, last_error = NULL WHERE platform = $1 AND shop_id = $2 AND sku = $3 AND pushed_version < $4`,
          [r.platform, r.shop_id, r.sku, r.version, r.atp],
        );
        sent += 1;
      } catch (e) {
        await this.deps.pool.query(`UPDATE stock_push SET attempts = attempts + 1, last_error = $4 WHERE platform = $1 AND shop_id = $2 AND sku = $3`, [
          r.platform,
          r.shop_id,
          r.sku,
          (e as Error).message.slice(0, 500),
        ]);
      }
    }
    return sent;
  }

  async state(): Promise<{ platform: string; shopId: string; sku: string; atp: number; pushedAtp: number | null; due: boolean; lastError: string | null }[]> {
    const { rows } = await this.deps.pool.query<{ platform: string; shop_id: string; sku: string; atp: number; pushed_atp: number | null; due: boolean; last_error: string | null }>(
      `SELECT platform, shop_id, sku, atp, pushed_atp, version > pushed_version AS due, last_error FROM stock_push ORDER BY platform, shop_id, sku`,
    );
    return rows.map((r) => ({ platform: r.platform, shopId: r.shop_id, sku: r.sku, atp: r.atp, pushedAtp: r.pushed_atp, due: r.due, lastError: r.last_error }));
  }
}
