import type { Pool } from 'pg';
import { runMigrations, type Migration } from '@flowline/platform';
import type { CountedChallenge } from './otp';

/**
 * The portal's tables in order-intake's database (migration scope `order-intake.portal`):
 * - portal_otp: one live challenge per order: the customer id (HMAC of the phone), the code's
 *   HMAC, expiry, attempts, lock. Never a code in clear; never in the event log or Kafka.
 * - portal_customer_orders: the orders a customer proved (code or signed link): the token's `orders`.
 */
export const PORTAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'portal one-time codes and proved orders',
    statements: [
      `CREATE TABLE IF NOT EXISTS portal_otp (
         order_id text PRIMARY KEY,
         customer_id text NOT NULL,
         code_hash text NOT NULL,
         expires_at timestamptz NOT NULL,
         attempts integer NOT NULL DEFAULT 0,
         locked_until timestamptz,
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
      `CREATE TABLE IF NOT EXISTS portal_customer_orders (
         customer_id text NOT NULL,
         order_id text NOT NULL,
         proved_at timestamptz NOT NULL DEFAULT now(),
         proved_by text NOT NULL,
         PRIMARY KEY (customer_id, order_id)
       )`,
    ],
  },
];

export async function migratePortal(pool: Pool): Promise<void> {
  await runMigrations(
    {
      run: async (fn) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const r = await fn(client);
          await client.query('COMMIT');
          return r;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
    },
    'order-intake.portal',
    PORTAL_MIGRATIONS,
  );
}

export class PortalStore {
  constructor(private readonly pool: Pool) {}

  /**
   * A new code for the order, replacing an earlier one, unless the order is locked (then false and
   * nothing changes: a new code must not reset the attempts of a locked order).
   */
  async putChallenge(orderId: string, customerId: string, codeHash: string, ttlMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO portal_otp AS p (order_id, customer_id, code_hash, expires_at, attempts, locked_until)
       VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4::double precision / 1000), 0, NULL)
       ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, code_hash = EXCLUDED.code_hash,
         expires_at = EXCLUDED.expires_at, attempts = 0, locked_until = NULL, created_at = clock_timestamp()
       WHERE p.locked_until IS NULL OR p.locked_until <= clock_timestamp()`,
      [orderId, customerId, codeHash, ttlMs],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * Counts one attempt atomically (concurrent tries each get their own number) and returns the
   * challenge as it is after it; a locked order keeps counting past the limit.
   */
  async countAttempt(orderId: string): Promise<(CountedChallenge & { lockedUntil: string | null }) | undefined> {
    const r = await this.pool.query<{ customer_id: string; code_hash: string; expires_at: Date; attempts: number; locked_until: Date | null }>(
      `UPDATE portal_otp SET attempts = attempts + 1 WHERE order_id = $1
       RETURNING customer_id, code_hash, expires_at, attempts, locked_until`,
      [orderId],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return {
      customerId: row.customer_id,
      codeHash: row.code_hash,
      expiresAt: row.expires_at.toISOString(),
      attempts: row.attempts,
      lockedUntil: row.locked_until ? row.locked_until.toISOString() : null,
    };
  }

  async lock(orderId: string, lockMs: number): Promise<void> {
    await this.pool.query(`UPDATE portal_otp SET locked_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000) WHERE order_id = $1`, [orderId, lockMs]);
  }

  /** A used code is gone: it cannot open a second session. True when this call consumed it. */
  async consume(orderId: string, codeHash: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM portal_otp WHERE order_id = $1 AND code_hash = $2', [orderId, codeHash]);
    return (r.rowCount ?? 0) > 0;
  }

  async isLocked(orderId: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM portal_otp WHERE order_id = $1 AND locked_until > clock_timestamp()', [orderId]);
    return (r.rowCount ?? 0) > 0;
  }

  /** Records a proved order and returns every order this customer has proved (newest first, at most 200). */
  async proveOrder(customerId: string, orderId: string, by: 'otp' | 'link'): Promise<string[]> {
    await this.pool.query(
      `INSERT INTO portal_customer_orders (customer_id, order_id, proved_by) VALUES ($1, $2, $3)
       ON CONFLICT (customer_id, order_id) DO UPDATE SET proved_at = now(), proved_by = EXCLUDED.proved_by`,
      [customerId, orderId, by],
    );
    const r = await this.pool.query<{ order_id: string }>('SELECT order_id FROM portal_customer_orders WHERE customer_id = $1 ORDER BY proved_at DESC LIMIT 200', [customerId]);
    return r.rows.map((x) => x.order_id);
  }
}
