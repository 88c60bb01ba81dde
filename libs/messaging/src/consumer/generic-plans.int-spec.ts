import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namedStatement, queryPrepared } from '../sql';
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

  it('turns sequential scans and JIT off for the transaction only', async () => {
    const settings = `SELECT current_setting('enable_seqscan') AS seqscan, current_setting('jit') AS jit`;
    const before = (await pool.query(settings)).rows[0];
    expect(before.seqscan).toBe('on');
    const inside = await pgTransactions(pool, { genericPlans: true }).run(async (tx) => (await tx.query(settings)).rows[0]);
    expect(inside).toEqual({ seqscan: 'off', jit: 'off' });
    expect((await pool.query(settings)).rows[0]).toEqual(before);
  });

  it('a generic plan made while the table was empty still walks the index once the table has grown', async () => {
    await pool.query('CREATE TABLE keyed (id bigserial PRIMARY KEY, k text NOT NULL, pad text NOT NULL); CREATE INDEX keyed_k ON keyed (k)');
    await pool.query('VACUUM (ANALYZE) keyed');
    const text = 'SELECT count(*)::int AS n FROM keyed WHERE k = $1';
    const generic = pgTransactions(pool, { genericPlans: true });
    // Planned now, on the empty table, and kept by the connection.
    await generic.run((tx) => queryPrepared(tx, text, ['k-1']));
    await pool.query(`INSERT INTO keyed (k, pad) SELECT 'k-' || g, repeat('x', 200) FROM generate_series(1, 20000) g`);
    const plan = await generic.run(async (tx) => {
      expect((await queryPrepared(tx, text, ['k-1'])).rows[0].n).toBe(1);
      return (await tx.query(`EXPLAIN EXECUTE ${namedStatement(text).name}('k-1')`)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    });
    // Without enable_seqscan off while it was made, this plan is `Seq Scan on keyed` (see
    // libs/platform/src/pool-lifetime.int-spec.ts, the same table on a plain connection).
    expect(plan).toMatch(/Index (Only )?Scan using keyed_k|Bitmap Index Scan on keyed_k/);
    expect(plan).not.toMatch(/Seq Scan/);
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
