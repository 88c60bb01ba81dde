import { randomBytes } from 'node:crypto';
import { pgTransactions } from '@flowline/messaging';
import { runMigrations } from '@flowline/platform';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS, PgSessionStore } from '../src/auth/pg-session.store';
import { TokenSealer } from '../src/auth/session-crypto';

/** The console's session store on a real PostgreSQL database: lifetimes, one-use logins, key rotation, logout. */
describe('PgSessionStore (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const now = { t: 1_000_000 };
  const limits = { maxSessions: 0, maxPending: 3, pendingTtlMs: 600_000, absoluteTtlMs: 3_600_000, idleTtlMs: 600_000 };
  const user = { subject: 'finance', roles: ['finance'], shops: ['*'] };
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];

  beforeAll(async () => {
    db = await createTestDatabase('console_pg_sessions');
    pool = new Pool({ connectionString: db.url, max: 4 });
    // Twice: the second run finds everything applied.
    expect((await runMigrations(pgTransactions(pool), CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS)).applied).toEqual([1]);
    expect((await runMigrations(pgTransactions(pool), CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS)).alreadyApplied).toEqual([1]);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const store = (keys: Buffer[]) => new PgSessionStore(pool, new TokenSealer(keys), limits, () => now.t);

  it('a session sealed under the old key still opens after rotation (new key first), and ends when the old key is dropped', async () => {
    const s = await store([oldKey]).create('staff', user, { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: now.t + 300_000 });
    expect((await store([newKey, oldKey]).get(s.id, 'staff'))?.tokens).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    // An update re-seals under the current key.
    await store([newKey, oldKey]).update(s.id, { accessToken: 'at-2', refreshToken: 'rt-2', expiresAt: now.t + 600_000 }, user);
    expect((await store([newKey]).get(s.id, 'staff'))?.tokens.accessToken).toBe('at-2');
    const t = await store([oldKey]).create('staff', user, { accessToken: 'x', expiresAt: now.t + 1 });
    expect(await store([newKey]).get(t.id, 'staff')).toBeUndefined();
  });

  it('idle and absolute lifetimes end a session; logout deletes the row; a customer session is not a staff one', async () => {
    const st = store([newKey]);
    const s = await st.create('staff', user, { accessToken: 'a', refreshToken: 'r', expiresAt: now.t + 300_000 });
    expect(await st.get(s.id, 'customer')).toBeUndefined();
    now.t += 9 * 60_000;
    expect(await st.get(s.id, 'staff')).toBeDefined(); // activity recorded
    now.t += 9 * 60_000;
    expect(await st.get(s.id, 'staff')).toBeDefined();
    now.t += 11 * 60_000; // idle > 10 min
    expect(await st.get(s.id, 'staff')).toBeUndefined();
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM console_session WHERE subject = 'finance' AND tokens LIKE 'v1.%'`);
    expect(rows[0].n).toBeGreaterThanOrEqual(1);

    const u = await st.create('staff', user, { accessToken: 'a', refreshToken: 'r', expiresAt: now.t + 300_000 });
    for (let i = 0; i < 7; i++) {
      now.t += 9 * 60_000;
      await st.get(u.id, 'staff');
    }
    expect(await st.get(u.id, 'staff')).toBeUndefined(); // past the absolute hour despite activity

    const v = await st.create('staff', user, { accessToken: 'a', expiresAt: now.t + 300_000 });
    expect((await st.destroy(v.id))?.user.subject).toBe('finance');
    expect(await st.get(v.id, 'staff')).toBeUndefined();
  });

  it('pending logins are one use, bounded, and lapse', async () => {
    const st = store([newKey]);
    const a = await st.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/orders', redirectUri: 'http://c/auth/callback' });
    expect(await st.takeLogin(a.state)).toMatchObject({ verifier: 'v', returnTo: '/orders' });
    expect(await st.takeLogin(a.state)).toBeUndefined();
    const started = [];
    for (let i = 0; i < 5; i++) {
      now.t += 1;
      started.push(await st.startLogin({ verifier: `v${i}`, nonce: 'n', returnTo: '/', redirectUri: 'x' }));
    }
    expect(await st.takeLogin(started[0].state)).toBeUndefined(); // beyond maxPending 3: the oldest went
    expect(await st.takeLogin(started[4].state)).toMatchObject({ verifier: 'v4' });
    now.t += 600_001;
    expect(await st.takeLogin(started[3].state)).toBeUndefined();
  });
});
