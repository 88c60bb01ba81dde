import { randomUUID } from 'node:crypto';
import { createTestDatabase, withTransactionInOtherDatabase } from '@flowline/testing';
import { Pool, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, type LogPosition, type NewEvent, type RecordedEvent, type Subscription, WrongExpectedVersion } from '../port';
import { logPageSql, PostgresEventStore } from './postgres-event-store';

/**
 * The hard requirement of docs/adr/0003: a subscriber never skips an event whose transaction
 * commits after a later-positioned one, never delivers twice, and never stalls on the hole a
 * rolled-back transaction leaves in the global_position sequence.
 */

const HOLD_MS = 5_000;
const WRITERS = 8;
const WRITERS_RUN_MS = 6_500;

function event(type: string): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    data: { type },
    metadata: { correlationId: randomUUID(), causationId: null, occurredAt: new Date().toISOString() },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

describe('PostgreSQL log order with concurrent, long and rolled-back transactions', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('eventstore_gap');
    pool = new Pool({ connectionString: db.url, max: 20 });
    pool.on('error', () => undefined); // DROP DATABASE ... FORCE at teardown ends idle clients
    store = await PostgresEventStore.create({ pool, pollIntervalMs: 50 });
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  it(
    'delivers exactly the committed events, once, in order per stream, with 8 writers, a 5 s transaction and a rollback',
    async () => {
      const delivered: { event: RecordedEvent; at: number }[] = [];
      const sub: Subscription = store.subscribeToAll({
        onEvent: async (e) => void delivered.push({ event: e, at: Date.now() }),
      });

      // A reader that trusts global_position alone, run side by side to prove the hazard is real.
      const naiveSeen = new Set<string>();
      let naiveCursor = 0n;
      let naiveRunning = true;
      const naive = (async () => {
        while (naiveRunning) {
          const rows = await pool.query<{ event_id: string; global_position: string }>(
            'SELECT event_id, global_position FROM eventstore.events WHERE global_position > $1 ORDER BY global_position',
            [naiveCursor.toString()],
          );
          for (const r of rows.rows) {
            naiveSeen.add(r.event_id);
            naiveCursor = BigInt(r.global_position);
          }
          await sleep(20);
        }
      })();

      // stream -> revision -> event id, from each append's result (completion order of concurrent
      // appends to the shared stream need not be their commit order).
      const committed = new Map<string, Map<number, string>>();
      const remember = (stream: string, events: NewEvent[], lastRevision: number) => {
        const revisions = committed.get(stream) ?? new Map<number, string>();
        events.forEach((e, i) => revisions.set(lastRevision - events.length + 1 + i, e.eventId));
        committed.set(stream, revisions);
      };
      const rolledBackIds = new Set<string>();
      const t0 = Date.now();
      const heldEvents = [event('HeldA'), event('HeldB'), event('HeldC')];
      const heldIds = heldEvents.map((e) => e.eventId);

      // 1. A transaction appends first (lowest global positions) and stays open for 5 s.
      const held: PoolClient = await pool.connect();
      await held.query('BEGIN');
      const heldResult = await store.appendToStreamWithin(held, 'held-1', heldEvents, { expectedRevision: 'no_stream' });

      // 2. Another transaction appends while the writers run, then rolls back: a hole in the sequence.
      const rollback = (async () => {
        await sleep(500);
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          const doomed = [event('Doomed'), event('Doomed')];
          doomed.forEach((e) => rolledBackIds.add(e.eventId));
          await store.appendToStreamWithin(c, 'rolled-1', doomed, { expectedRevision: 'no_stream' });
          await sleep(1_500);
          await c.query('ROLLBACK');
        } finally {
          c.release();
        }
      })();

      // 3. Eight writers append concurrently, to their own streams (exact expected revision) and
      //    to one shared stream ('any': losers of a race retry, leaving more holes).
      const writer = async (w: number) => {
        const revisions = new Map<string, number>();
        let n = 0;
        while (Date.now() - t0 < WRITERS_RUN_MS) {
          const own = n % 3 !== 2;
          const stream = own ? `w${w}-s${n % 4}` : 'shared-1';
          const batch = Array.from({ length: 1 + (n % 3) }, () => event(`W${w}`));
          const r = await store.appendToStream(stream, batch, { expectedRevision: own ? (revisions.get(stream) ?? 'no_stream') : 'any' });
          revisions.set(stream, r.nextExpectedRevision);
          remember(stream, batch, r.nextExpectedRevision);
          n++;
          await sleep(10 + Math.floor(Math.random() * 60));
        }
        return n;
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

      // While the 5 s transaction is open nothing written after it may be delivered (it could
      // still commit below them); the position-only reader meanwhile races ahead.
      await sleep(Math.max(0, HOLD_MS - (Date.now() - t0)));
      const deliveredWhileHeld = delivered.length;
      const naiveBeforeCommit = new Set(naiveSeen);
      await held.query('COMMIT');
      const committedAt = Date.now();
      held.release();
      remember('held-1', heldEvents, heldResult.nextExpectedRevision);

      const appends = await Promise.all(writers);
      await rollback;
      // Writers' appends to one shared stream with 'any' may race; make sure none failed silently.
      expect(appends.every((n) => n > 0)).toBe(true);

      const committedIds = new Set([...committed.values()].flatMap((revisions) => [...revisions.values()]));
      const allArrived = await waitFor(() => delivered.length >= committedIds.size, 15_000);
      await sleep(500); // anything extra (a duplicate) would show up now
      naiveRunning = false;
      await naive;

      // Phase 2, no transaction open: a fresh rollback hole must not hold back a later commit.
      const before = delivered.length;
      const c = await pool.connect();
      let holeStart = 0n;
      try {
        await c.query('BEGIN');
        holeStart = (await store.appendToStreamWithin(c, 'rolled-2', [event('Doomed')])).position.prepare;
        await c.query('ROLLBACK');
      } finally {
        c.release();
      }
      const afterHole = await store.appendToStream('after-hole', [event('AfterHole')]);
      const appendedAt = Date.now();
      const arrivedAfterHole = await waitFor(() => delivered.length > before, 5_000);
      const afterHoleLatency = (delivered[before]?.at ?? Date.now()) - appendedAt;
      await sub.stop();

      const ids = delivered.map((d) => d.event.eventId);
      const deliveredIds = new Set(ids);
      const report = {
        writerAppends: appends.reduce((a, b) => a + b, 0),
        committedEvents: committedIds.size,
        delivered: delivered.length,
        deliveredWhileHeld,
        naiveSawBeforeCommit: naiveBeforeCommit.size,
        naiveMissed: [...committedIds].filter((id) => !naiveSeen.has(id)).length,
        // Time from the 5 s transaction's commit until it and the backlog held behind it arrived.
        msFromCommitToBacklogDelivered:
          Math.max(...delivered.filter((d) => heldIds.includes(d.event.eventId) || naiveBeforeCommit.has(d.event.eventId)).map((d) => d.at)) -
          committedAt,
        msAfterRollbackHole: afterHoleLatency,
      };
      console.log('gap test:', JSON.stringify(report));

      expect(allArrived).toBe(true);
      expect(deliveredWhileHeld).toBe(0);
      expect(naiveBeforeCommit.size).toBeGreaterThan(0);
      // The naive reader skipped exactly the late-committing transaction's events...
      expect(heldIds.every((id) => !naiveSeen.has(id))).toBe(true);
      expect(heldResult.position.prepare).toBeLessThan(delivered[delivered.length - 1].event.position.prepare);
      // ...while the subscription has every committed event once, and nothing rolled back.
      expect(deliveredIds.size).toBe(ids.length);
      expect([...deliveredIds].filter((id) => id !== afterHoleEventId(delivered)).sort()).toEqual([...committedIds].sort());
      expect([...rolledBackIds].some((id) => deliveredIds.has(id))).toBe(false);
      // Log order: strictly increasing positions; each stream in revision order.
      for (let i = 1; i < delivered.length; i++) {
        expect(comparePositions(delivered[i - 1].event.position, delivered[i].event.position)).toBeLessThan(0);
      }
      for (const [stream, revisions] of committed) {
        const got = delivered.filter((d) => d.event.streamId === stream).map((d) => d.event);
        expect(got.map((e) => e.streamPosition)).toEqual([...revisions.keys()].sort((a, b) => a - b));
        expect(got.map((e) => e.eventId)).toEqual(got.map((e) => revisions.get(e.streamPosition)));
      }
      // Phase 2: the hole is real and did not hold the later event back.
      expect(afterHole.position.prepare).toBeGreaterThan(holeStart);
      const hole = await pool.query('SELECT count(*)::int AS n FROM eventstore.events WHERE global_position = $1', [holeStart.toString()]);
      expect(hole.rows[0].n).toBe(0);
      expect(arrivedAfterHole).toBe(true);
      expect(delivered[before].event.type).toBe('AfterHole');
    },
    120_000,
  );

  it('a transaction held open in another database does not hold this log back; one in this database does', async () => {
    await withTransactionInOtherDatabase('eventstore_gap_other', async () => {
      const r = await store.appendToStream('cross-db-1', [event('Visible')]);
      const page = await store.readAll({ after: { commit: r.position.commit, prepare: r.position.prepare - 1n } });
      expect(page.map((e) => e.type)).toEqual(['Visible']);

      const local = await pool.connect();
      try {
        await local.query('BEGIN');
        await local.query('CREATE TABLE IF NOT EXISTS public.local_scratch (id int)');
        await local.query('INSERT INTO public.local_scratch VALUES (1)'); // an older transaction of this database
        const r2 = await store.appendToStream('cross-db-2', [event('HeldBack')]);
        const held = await store.readAll({ after: r.position });
        expect(held).toEqual([]);
        await local.query('COMMIT');
        const released = await store.readAll({ after: r.position });
        expect(released.map((e) => e.eventId)).toEqual([(await store.readStream('cross-db-2'))[0].eventId]);
        expect(released[0].position).toEqual(r2.position);
      } finally {
        local.release();
      }
    });
  });

  /** One log page straight from SQL, as a poll that already knows `foreign` ids sends it. */
  type PageRow = { horizon: string; attributed: boolean; waiting: boolean; foreign_ids: string[] | null; running: string[] | null; event_id: string | null };
  /** `old`: the in-progress ids worth attributing (null: any, as readAll does). */
  const pageParams = (after: LogPosition, foreign: string[], old: string[] | null = null) => [
    after.commit.toString(),
    after.prepare.toString(),
    null,
    null,
    500,
    foreign,
    old,
  ];
  const readPage = async (after: LogPosition, foreign: string[], old: string[] | null = null) =>
    (await pool.query<PageRow>(logPageSql('"eventstore"'), pageParams(after, foreign, old))).rows;
  const eventIds = (rows: PageRow[]) => rows.flatMap((r) => (r.event_id === null ? [] : [r.event_id]));

  /** A transaction in another database that holds a transaction id until rolled back. */
  it("a transaction of this database still in flight holds the log back while another database's transaction is remembered as foreign and left out", async () => {
    await withTransactionInOtherDatabase('eventstore_gap_cached', async (foreignXid) => {
      const r = await store.appendToStream('cached-1', [event('Visible')]);
      const start = { commit: r.position.commit, prepare: r.position.prepare - 1n };
      // The event lies above the foreign transaction: the poll attributes it and returns its id to remember.
      const first = await readPage(start, []);
      expect(first[0].attributed).toBe(true);
      expect(first[0].foreign_ids).toContain(foreignXid);
      expect((await store.readAll({ after: start })).map((e) => e.type)).toEqual(['Visible']); // the store learns it too
      const known = first[0].foreign_ids ?? [];

      const local = await pool.connect();
      try {
        await local.query('BEGIN');
        // An id of this database, taken before the next append and with no row written yet.
        const localXid = (await local.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0].x;
        const r2 = await store.appendToStream('cached-2', [event('HeldBack')]);
        expect(r2.position.commit).toBeGreaterThan(BigInt(localXid));
        const held = await readPage(r.position, known);
        expect(BigInt(held[0].horizon)).toBeLessThanOrEqual(BigInt(localXid));
        expect(eventIds(held)).toEqual([]);
        expect(await store.readAll({ after: r.position })).toEqual([]);
        await local.query('COMMIT');
        const heldBackId = (await store.readStream('cached-2'))[0].eventId;
        expect(eventIds(await readPage(r.position, known))).toEqual([heldBackId]);
        expect((await store.readAll({ after: r.position })).map((e) => e.eventId)).toEqual([heldBackId]);
      } finally {
        local.release();
      }
    });
  });

  it('reads no backend status (pg_stat_activity) when no event lies at or above the oldest running transaction after the cursor, when that transaction is young (a subscription retries), or when it is known foreign', async () => {
    await withTransactionInOtherDatabase('eventstore_gap_cheap', async (foreignXid) => {
      const r = await store.appendToStream('cheap-1', [event('AboveForeign')]);
      // Caught up (nothing after the cursor): the oldest running id is a horizon as good as any.
      const idle = await readPage(r.position, []);
      expect(idle[0].attributed).toBe(false);
      expect(BigInt(idle[0].horizon)).toBeLessThanOrEqual(BigInt(foreignXid));
      expect(eventIds(idle)).toEqual([]);
      const plan = await pool.query(`EXPLAIN (ANALYZE, COSTS OFF) ${logPageSql('"eventstore"')}`, pageParams(r.position, []));
      const text = plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Function Scan on pg_stat_get_activity[^\n]*\(never executed\)/);

      const before = { commit: r.position.commit, prepare: r.position.prepare - 1n };
      // An event above the foreign transaction, which a subscription has not seen running for long
      // (old: none): no attribution, the page stops below it and says a row is waiting (retry soon).
      const young = await readPage(before, [], []);
      expect(young[0]).toMatchObject({ attributed: false, waiting: true });
      expect(BigInt(young[0].horizon)).toBeLessThanOrEqual(BigInt(foreignXid));
      expect(eventIds(young)).toEqual([]);
      expect(young[0].running).toContain(foreignXid);

      // Seen running long enough (or a one-off read): attribution runs and the horizon passes the foreign id.
      const busy = await readPage(before, [], young[0].running);
      expect(busy[0].attributed).toBe(true);
      expect(busy[0].foreign_ids).toContain(foreignXid);
      expect(BigInt(busy[0].horizon)).toBeGreaterThan(r.position.commit);
      expect(eventIds(busy)).toHaveLength(1);
      // Remembered as foreign: the same page without attribution.
      const cached = await readPage(before, busy[0].foreign_ids ?? []);
      expect(cached[0].attributed).toBe(false);
      expect(BigInt(cached[0].horizon)).toBeGreaterThan(r.position.commit);
      expect(eventIds(cached)).toEqual(eventIds(busy));
    });
  });

  it('a page the filter emptied lets the cursor move to the last row below the horizon, never to the horizon (ids above a committed row are not durable)', async () => {
    const first = await store.appendToStream('tailtest-order-1', [event('Kept')]);
    const skipped = await store.appendToStream('tailtest-stock-1', [event('FilteredOut')]);
    // Ids the horizon counts and a crash can hand out again: aborted transactions after the last row.
    for (let i = 0; i < 3; i++) await pool.query('BEGIN; SELECT pg_current_xact_id(); ROLLBACK;');
    type TailRow = { horizon: string; tail_tx: string | null; tail_pos: string | null; event_id: string | null };
    // No matching row lies above the horizon, so nothing is attributed: a transaction of another
    // test file (another database) that took its id before our row would hold the horizon below
    // it for as long as it runs. Those are passed as known foreign ($6), as a subscription would
    // have remembered them; ids taken later are above our row and cannot hold it back.
    const foreignNow = async () =>
      (
        await pool.query<{ x: string }>(
          `SELECT (pg_current_xact_id()::text::numeric - (pg_current_xact_id()::text::numeric % 4294967296) + backend_xid::text::numeric)::text AS x
             FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()`,
        )
      ).rows.map((r) => r.x);
    let rows: TailRow[] = [];
    for (let i = 0; i < 200; i++) {
      const params = [first.position.commit.toString(), first.position.prepare.toString(), ['tailtest-order-'], null, 500, await foreignNow(), null];
      rows = (await pool.query<TailRow>(logPageSql('"eventstore"'), params)).rows;
      if (BigInt(rows[0].horizon) > skipped.position.commit) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(BigInt(rows[0].horizon)).toBeGreaterThan(skipped.position.commit);
    expect(rows.filter((r) => r.event_id !== null)).toEqual([]);
    expect({ commit: BigInt(rows[0].tail_tx ?? -1), prepare: BigInt(rows[0].tail_pos ?? -1) }).toEqual(skipped.position);
    // Caught up: no row after the cursor, no move.
    const after = [skipped.position.commit.toString(), skipped.position.prepare.toString(), ['tailtest-order-'], null, 500, [], null];
    expect((await pool.query<{ tail_tx: string | null }>(logPageSql('"eventstore"'), after)).rows[0].tail_tx).toBeNull();
  });

  it('WrongExpectedVersion still holds for a writer racing the open transaction on the same stream', async () => {
    const held = await pool.connect();
    try {
      await held.query('BEGIN');
      await store.appendToStreamWithin(held, 'contended-1', [event('First')], { expectedRevision: 'no_stream' });
      // The competing append waits on the open transaction's unique key, then loses.
      const racing = store.appendToStream('contended-1', [event('Second')], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
      await sleep(300);
      await held.query('COMMIT');
      expect(await racing).toBeInstanceOf(WrongExpectedVersion);
    } finally {
      held.release();
    }
    expect((await store.readStream('contended-1')).map((e) => e.type)).toEqual(['First']);
  });
});

function afterHoleEventId(delivered: { event: RecordedEvent }[]): string | undefined {
  return delivered.find((d) => d.event.type === 'AfterHole')?.event.eventId;
}
