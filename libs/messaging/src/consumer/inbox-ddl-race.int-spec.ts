import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCheckpointStore } from '../relay/checkpoint-store';
import { RelayLease } from '../relay/relay-lease';
import { ensureInbox } from './inbox';
import { pgTransactions } from './transactions';

// Issue #18: two instances booting at once on a fresh database used to race on
// CREATE TABLE IF NOT EXISTS (unique_violation on pg_type, swallowed by a catch). The DDL now runs
// under the migrations' advisory lock in one implicit transaction: no error, one table each.

describe('messaging tables under concurrent boots (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const pools: Pool[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('messaging_ddl_race');
    // One pool per "instance": separate connections, as two processes have.
    for (let i = 0; i < 4; i++) pools.push(new Pool({ connectionString: db.url, max: 2 }));
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.drop();
  });

  it('four instances create the inbox, checkpoint and lease tables at once on a fresh database without an error', async () => {
    const boots = pools.map(async (pool) => {
      await ensureInbox(pgTransactions(pool));
      await new PgCheckpointStore(pool).init();
      await new RelayLease(pool, 'race', 10_000).init();
    });
    const outcomes = await Promise.allSettled(boots);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    const { rows } = await pools[0].query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(['messaging_inbox', 'relay_checkpoints', 'relay_leases']);
  });
});
