import type { Pool } from 'pg';
import type { WechatApp, WechatTokenCache } from './channels/wechat.adapter';

/**
 * access_tokens in PostgreSQL: one row per app for every instance. A token is refreshed when less
 * than `marginSec` of its life is left (before WeChat expires it), under a transaction-scoped
 * advisory lock so two instances never both fetch (each fetch invalidates the previous token).
 */
export class PgWechatTokenCache implements WechatTokenCache {
  /**
   * The token last read or fetched per app, reused for at most `memoMs` and never past its own
   * refresh margin (issue #10: the row was read once per WeChat message). A token another instance
   * replaced meanwhile stays usable for minutes at WeChat; should it be refused (40001) the sender
   * forces a refresh, which takes the newer row.
   */
  private readonly memo = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly now: () => Date = () => new Date(),
    private readonly marginSec = 300,
    private readonly memoMs = 60_000,
  ) {}

  async token(app: WechatApp, fetchNew: () => Promise<{ token: string; expiresInSec: number }>, options: { force?: boolean; stale?: string } = {}): Promise<string> {
    const fresh = async (q: Pick<Pool, 'query'>) => {
      const r = await q.query(
        `SELECT access_token, expires_at FROM notification.wechat_token WHERE app_id = $1 AND expires_at > $2::timestamptz + ($3 || ' seconds')::interval`,
        [app.appId, this.now().toISOString(), String(this.marginSec)],
      );
      const row = r.rows[0] as { access_token: string; expires_at: Date } | undefined;
      if (!row || (options.force && row.access_token === options.stale)) return undefined;
      this.remember(app.appId, row.access_token, row.expires_at.getTime());
      return row.access_token;
    };
    if (!options.force) {
      const m = this.memo.get(app.appId);
      if (m && this.now().getTime() < m.until) return m.token;
      const cached = await fresh(this.pool);
      if (cached) return cached;
    }
    this.memo.delete(app.appId);
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
      this.remember(app.appId, got.token, at.getTime() + got.expiresInSec * 1000);
      return got.token;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private remember(appId: string, token: string, expiresAtMs: number): void {
    this.memo.set(appId, { token, until: Math.min(this.now().getTime() + this.memoMs, expiresAtMs - this.marginSec * 1000) });
  }
}
