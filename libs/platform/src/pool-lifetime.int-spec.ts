import { createTestDatabase } from '@flowline/testing';
import { Pool, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePoolTimings } from './config';

/**
 * Why every service pool bounds its connections' lifetime (DATABASE_POOL_LIFETIME_S): a prepared
 * statement keeps the plan it got on its connection, and a plan made while a table was nearly
 * empty scans the whole table for as long as the connection lives when nothing ANALYZEs it.
 */
describe('PostgreSQL pools with databasePoolTimings', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const statement = { name: 'flowline_lifetime_probe', text: 'SELECT count(*)::int AS n FROM probe WHERE k = $1', values: ['k-1'] };

  beforeAll(async () => {
    db = await createTestDatabase('pool_lifetime');
    // Generic plans, as order-intake's commit tail asks for: the plan made once is the one kept.
    pool = new Pool({ connectionString: db.url, max: 1, options: '-c plan_cache_mode=force_generic_plan', ...databasePoolTimings({ DATABASE_POOL_LIFETIME_S: '2' }) });
    await pool.query('CREATE TABLE probe (id bigserial PRIMARY KEY, k text NOT NULL, pad text NOT NULL)');
    await pool.query('CREATE INDEX probe_k ON probe (k)');
    // Analyzed while empty: PostgreSQL then trusts the table's real size (no 10-page floor).
    await pool.query('VACUUM (ANALYZE) probe');
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function planOf(client: PoolClient): Promise<string> {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${statement.name}('k-1')`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  async function withClient<T>(body: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      return await body(client);
    } finally {
      client.release();
    }
  }

  it('replaces a connection after its lifetime, and the statement is planned again for the table as it is now', async () => {
    const first = await withClient(async (client) => {
      await client.query(statement);
      return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    });
    await pool.query(`INSERT INTO probe (k, pad) SELECT 'k-' || g, repeat('x', 200) FROM generate_series(1, 20000) g`);
    const stale = await withClient(async (client) => {
      await client.query(statement);
      return planOf(client);
    });
    // The same connection still runs the plan made on the empty table.
    expect(stale).toMatch(/Seq Scan on probe/);

    await new Promise((r) => setTimeout(r, 2_500));
    const fresh = await withClient(async (client) => {
      const r = await client.query<{ n: number }>(statement);
      expect(r.rows[0]!.n).toBe(1);
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      return { pid, plan: await planOf(client) };
    });
    expect(fresh.pid).not.toBe(first);
    expect(fresh.plan).toMatch(/Index (Only )?Scan using probe_k|Bitmap Index Scan on probe_k/);
  });
});
