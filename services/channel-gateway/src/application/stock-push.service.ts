import { namedStatement } from '@flowline/messaging';
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
 * nothing); the pusher sends what is due, coalesced, at most `perSecond` updates per shop, counted
 * across every replica (the platform throttles per app, not per process).
 */
export class StockPushService {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly deps: {
      pool: Pool;
      shops: ShopAccount[];
      adapters: StockAdapter[];
      perSecond: number;
      now(): number;
      /** The rate window (default RATE_WINDOW_MS); tests lengthen it so a race is not a matter of timing. */
      rateWindowMs?: number;
    },
  ) {}

  private get windowMs(): number {
    return this.deps.rateWindowMs ?? RATE_WINDOW_MS;
  }

  /**
   * Takes one of the shop's `perSecond` sends in the window, shared by every replica: one row per
   * shop holds the recent send times (database clock, so replicas' clocks do not matter). ON
   * CONFLICT DO UPDATE locks the row and checks its WHERE on the newest version, so two replicas
   * cannot both take the last send. Committed at once (autocommit), so
   * the others see it while this replica is still inside the shop's API.
   */
  private async takeSend(platform: string, shopId: string): Promise<boolean> {
    const secs = this.windowMs / 1000;
    const r = await this.deps.pool.query(
      `INSERT INTO stock_push_rate AS r (platform, shop_id, sent_at) VALUES ($1, $2, ARRAY[clock_timestamp()])
       ON CONFLICT (platform, shop_id) DO UPDATE
          SET sent_at = array(SELECT t FROM unnest(r.sent_at) AS t WHERE t > clock_timestamp() - make_interval(secs => $4)) || clock_timestamp()
        WHERE (SELECT count(*) FROM unnest(r.sent_at) AS t WHERE t > clock_timestamp() - make_interval(secs => $4)) < $3`,
      [platform, shopId, this.deps.perSecond, secs],
    );
    return r.rowCount === 1;
  }

  /**
   * Called in the consumer's transaction. `version` orders changes of one SKU (the event's stream
   * position). A new figure ends a failed push's backoff (a SKU that sold out after a passing API
   * error is tried at once); its failures still queue it behind rows that never failed.
   */
  async recordAtp(tx: Sql, data: { sku: string; channel: string; atp: number }, version: number): Promise<void> {
    const platforms = platformsOfChannel(data.channel);
    for (const shop of this.deps.shops.filter((s) => platforms.includes(s.platform) && (s.platform !== 'taobao' || (s.channel ?? 'taobao') === data.channel))) {
      await tx.query(
        `INSERT INTO stock_push (platform, shop_id, sku, atp, version) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (platform, shop_id, sku) DO UPDATE SET atp = EXCLUDED.atp, version = EXCLUDED.version, next_attempt_at = NULL
         WHERE stock_push.version < EXCLUDED.version`,
        [shop.platform, shop.shopId, data.sku, data.atp, version],
      );
    }
  }

  /**
   * One round: push every due (shop, SKU) the shop's allowance permits. Returns how many were sent.
   * Several instances push at once (one pusher per replica): each (platform, shop, SKU) is pushed
   * under a transaction-scoped advisory lock, and the figure sent is the one read after taking it.
   * So two pushes of one SKU never overlap, and a later push never sends an older figure than an
   * earlier one (without the lock, a replica that read version 10 could send it after another sent
   * version 11, leaving the shop on the stale figure while the row said 11 was pushed). The
   * consumer does not take the lock: it records newer figures meanwhile, which the next round sends.
   */
  async pushDue(): Promise<number> {
    // Rows that never failed first, then by age: a SKU the shop keeps refusing (not listed there,
    // say) waits out its backoff and goes behind real changes instead of taking the shop's whole
    // allowance every round (a sold-out SKU was left offered on two platforms that way).
    // Run every round on every replica, idle or not: prepared once per connection (issue #10).
    const { rows } = await this.deps.pool.query<{ platform: string; shop_id: string; sku: string }>(
      namedStatement(
        `SELECT platform, shop_id, sku FROM stock_push
        WHERE version > pushed_version AND (next_attempt_at IS NULL OR next_attempt_at <= now())
        ORDER BY attempts, version LIMIT 500`,
      ),
    );
    let sent = 0;
    /** Shops whose shared allowance ran out in this round: their other SKUs wait for the next. */
    const spent = new Set<string>();
    for (const r of rows) {
      const shop = this.deps.shops.find((s) => s.platform === r.platform && s.shopId === r.shop_id);
      const adapter = this.deps.adapters.find((a) => a.platform === r.platform);
      if (!shop || !adapter) continue;
      const key = `${r.platform}/${r.shop_id}`;
      if (spent.has(key)) continue;
      const now = this.deps.now();
      // This replica's own sends are a subset of the shop's: when they alone use the allowance up,
      // skip without asking the database.
      const times = (this.sent.get(key) ?? []).filter((t) => now - t < this.windowMs);
      if (allowance(times, now, this.deps.perSecond, this.windowMs) <= 0) continue;
      const outcome = await this.pushOne(shop, adapter, r, () => {
        times.push(now);
        this.sent.set(key, times);
      });
      if (outcome === 'sent') sent += 1;
      else if (outcome === 'no-allowance') spent.add(key);
    }
    return sent;
  }

  /**
   * Pushes one (platform, shop, SKU) under its advisory lock: 'sent'; 'skipped' when another replica
   * holds it, nothing is due any more or the shop's API failed (retried next round); 'no-allowance'
   * when the shop's shared allowance is used up.
   */
  private async pushOne(shop: ShopAccount, adapter: StockAdapter, r: { platform: string; shop_id: string; sku: string }, counted: () => void): Promise<'sent' | 'skipped' | 'no-allowance'> {
    const client = await this.deps.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ got: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended('channel-gateway.stock_push:' || $1 || '/' || $2 || '/' || $3, 0)) AS got`, [r.platform, r.shop_id, r.sku]);
      if (!lock.rows[0]?.got) {
        await client.query('ROLLBACK');
        return 'skipped';
      }
      const fresh = await client.query<{ atp: number; version: string }>(
        `SELECT atp, version FROM stock_push WHERE platform = $1 AND shop_id = $2 AND sku = $3 AND version > pushed_version`,
        [r.platform, r.shop_id, r.sku],
      );
      const due = fresh.rows[0];
      if (!due) {
        await client.query('ROLLBACK');
        return 'skipped';
      }
      if (!(await this.takeSend(r.platform, r.shop_id))) {
        await client.query('ROLLBACK');
        return 'no-allowance';
      }
      counted();
      try {
        await adapter.setQuantity(shop, r.sku, due.atp);
      } catch (e) {
        // Backoff: 2 s, 4 s, ... at most 5 min, so a stale figure on the platform is retried within minutes.
        await client.query(
          `UPDATE stock_push SET attempts = attempts + 1, last_error = $4,
                  next_attempt_at = now() + make_interval(secs => least(300, power(2, least(attempts + 1, 20)))::double precision)
            WHERE platform = $1 AND shop_id = $2 AND sku = $3`,
          [r.platform, r.shop_id, r.sku, (e as Error).message.slice(0, 500)],
        );
        await client.query('COMMIT');
        return 'skipped';
      }
      await client.query(
        `UPDATE stock_push SET pushed_version = $4, pushed_atp = $5, pushed_at = now(), attempts = 0, last_error = NULL, next_attempt_at = NULL WHERE platform = $1 AND shop_id = $2 AND sku = $3 AND pushed_version < $4`,
        [r.platform, r.shop_id, r.sku, due.version, due.atp],
      );
      await client.query('COMMIT');
      return 'sent';
    } catch (e) {
      broken = e as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async state(): Promise<{ platform: string; shopId: string; sku: string; atp: number; pushedAtp: number | null; due: boolean; lastError: string | null }[]> {
    const { rows } = await this.deps.pool.query<{ platform: string; shop_id: string; sku: string; atp: number; pushed_atp: number | null; due: boolean; last_error: string | null }>(
      `SELECT platform, shop_id, sku, atp, pushed_atp, version > pushed_version AS due, last_error FROM stock_push ORDER BY platform, shop_id, sku`,
    );
    return rows.map((r) => ({ platform: r.platform, shopId: r.shop_id, sku: r.sku, atp: r.atp, pushedAtp: r.pushed_atp, due: r.due, lastError: r.last_error }));
  }
}
