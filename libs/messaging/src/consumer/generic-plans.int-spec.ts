import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryPrepared } from '../sql';
import { claimInboxEntries, ensureInbox } from './inbox';
import { pgTransactions } from './transactions';

// Issue #10: PostgreSQL re-planned prepared batch statements (`unnest($n)`, `= ANY($n)` of a short
// array) on every execution, because their custom plan always looks cheaper than the generic one.
// A transaction of pgTransactions(pool, { genericPlans: true }) runs them on the generic plan,
// for that transaction only.

describe('pgTransactions with genericPlans (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('messaging_generic_plans');
    // One connection: every transaction below runs on the same backend.
    pool = new Pool({ connectionString: db.url, max: 1 });
    await ensureInbox(pgTransactions(pool));
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const mode = async (tx: { query(sql: string): Promise<{ rows: { m?: string }[] }> }) => (await tx.query(`SELECT current_setting('plan_cache_mode') AS m`)).rows[0].m;

  it('sets plan_cache_mode for the transaction only: the connection is back on auto after a commit and after a rollback', async () => {
    const generic = pgTransactions(pool, { genericPlans: true });
    expect(await generic.run((tx) => mode(tx))).toBe('force_generic_plan');
    expect(await pgTransactions(pool).run((tx) => mode(tx))).toBe('auto');
    await expect(
      generic.run(async (tx) => {
        expect(await mode(tx)).toBe('force_generic_plan');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await pool.query(`SELECT current_setting('plan_cache_mode') AS m`)).rows[0].m).toBe('auto');
  });

  it('claims inbox entries through a prepared statement whose generic plan is reused by later transactions', async () => {
    const generic = pgTransactions(pool, { genericPlans: true });
    const claim = (ids: string[]) =>
      generic.run((tx) => claimInboxEntries(tx, 'messaging_inbox', 'g1', ids.map((eventId, i) => ({ eventId, eventType: 'T', topic: 't', partition: 0, offset: String(i) }))));
    expect([...(await claim(['a', 'b']))].sort()).toEqual(['a', 'b']);
    expect([...(await claim(['b', 'c']))]).toEqual(['c']);
    // The claim is a named statement of this connection, and its plan is the generic one.
    const prepared = await pool.query<{ name: string; generic_plans: string; custom_plans: string }>(
      `SELECT name, generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE statement LIKE '%INSERT INTO "messaging_inbox"%'`,
    );
    expect(prepared.rows).toHaveLength(1);
    expect(Number(prepared.rows[0].generic_plans)).toBeGreaterThanOrEqual(2);
    expect(prepared.rows[0].custom_plans).toBe('0');
  });

  it('without the option, the same connection plans a prepared statement as PostgreSQL chooses (custom first)', async () => {
    await pgTransactions(pool).run((tx) => queryPrepared(tx, 'SELECT count(*) FROM messaging_inbox WHERE event_id = ANY($1::text[])', [['a']]));
    const r = await pool.query<{ custom_plans: string }>(`SELECT custom_plans::text FROM pg_prepared_statements WHERE statement LIKE 'SELECT count(*) FROM messaging_inbox%'`);
    expect(r.rows[0].custom_plans).toBe('1');
  });
});
