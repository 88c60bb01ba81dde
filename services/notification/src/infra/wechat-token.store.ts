import type { Pool } from 'pg';
import type { WechatApp, WechatTokenCache } from './channels/wechat.adapter';

/**
 * access_tokens in PostgreSQL: one row per app for every instance. A token is refreshed when less
 * than `marginSec` of its life is left (before WeChat expires it), under a transaction-scoped
 * advisory lock so two instances never both fetch (each fetch invalidates the previous token).
 */
export class PgWechatTokenCache implements WechatTokenCache {
  constructor(
    private readonly pool: Pool,
    private readonly now: () => Date = () => new Date(),
    private readonly marginSec = 300,
  ) {}

  async token(app: WechatApp, fetchNew: () => Promise<{ token: string; expiresInSec: number }>, options: { force?: boolean; stale?: string } = {}): Promise<string> {
    const fresh = async (q: Pick<Pool, 'query'>) => {
      const r = await q.query(`SELECT access_token FROM notification.wechat_token WHERE app_id = $1 AND expires_at > $2::timestamptz + ($3 || ' seconds')::interval`, [app.appId, this.now().toISOString(), String(this.marginSec)]);
      const t = r.rows[0]?.access_token as string | undefined;
      return t && !(options.force && t === options.stale) ? t : undefined;
    };
    if (!options.force) {
      const cached = await fresh(this.pool);
      if (cached) return cached;
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`flowline.notification.wechat-token:${app.appId}`]);
      const again = await fresh(client);
      if (again) {
        await client.query('COMMIT');
        return again;
      }
      const got = await fetchNew();
      const at = this.now();
      await client.query(
        `INSERT INTO notification.wechat_token (app_id, access_token, expires_at, refreshed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app_id) DO UPDATE SET access_token = EXCLUDED.access_token, expires_at = EXCLUDED.expires_at, refreshed_at = EXCLUDED.refreshed_at,
           refreshes = notification.wechat_token.refreshes + 1`,
        [app.appId, got.token, new Date(at.getTime() + got.expiresInSec * 1000).toISOString(), at.toISOString()],
      );
      await client.query('COMMIT');
      return got.token;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
