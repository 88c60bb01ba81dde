import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@flowline/testing';
import { Pool, type PoolClient, type QueryResult } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEventId, type NewEvent, WrongExpectedVersion } from '../port';
import { eventStoreContract } from '../testing/event-store-contract';
import { migrate } from './migrations';
import { FORCE_GENERIC_PLANS_SQL, KEYED_GENERIC_PLANS_SQL, logPageSql, OutOfOrderAppend, PostgresEventStore } from './postgres-event-store';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase('eventstore_contract');
});
afterAll(async () => {
  await db?.drop();
});

eventStoreContract('postgres', async () => {
  const store = await PostgresEventStore.create({ connectionString: db.url, pollIntervalMs: 50 });
  return { store, dispose: () => store.close() };
});

eventStoreContract('postgres with NOTIFY wake-ups', async () => {
  const store = await PostgresEventStore.create({ connectionString: db.url, schema: 'es_notify', notify: true, pollIntervalMs: 50 });
  return { store, dispose: () => store.close() };
});

function event(type = 'Happened'): NewEvent {
  return { eventId: randomUUID(), type, data: { type }, metadata: { correlationId: randomUUID(), causationId: null, occurredAt: new Date(0).toISOString() } };
}

describe('PostgresEventStore specifics', () => {
  let pool: Pool;
  let store: PostgresEventStore;
  beforeAll(async () => {
    pool = new Pool({ connectionString: db.url, max: 6 });
    pool.on('error', () => undefined); // DROP DATABASE ... FORCE at teardown ends idle clients
    store = await PostgresEventStore.create({ pool, schema: 'es_specifics', pollIntervalMs: 50 });
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
  });

  it('runs its migrations once: a second create applies nothing and keeps the data', async () => {
    await store.appendToStream('order-m1', [event()]);
    expect(await migrate(pool, 'es_specifics')).toEqual([]);
    const again = await PostgresEventStore.create({ pool, schema: 'es_specifics' });
    expect(await again.readStream('order-m1')).toHaveLength(1);
    await again.close();
    const versions = await pool.query(`SELECT version FROM es_specifics.flowline_schema_migrations WHERE scope = 'eventstore' ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual([1, 2, 3]);
  });

  it('migrates concurrently from several processes without error', async () => {
    const results = await Promise.all([1, 2, 3].map(() => migrate(pool, 'es_concurrent')));
    expect(results.flat().sort()).toEqual([1, 2, 3]);
  });

  it('with notify, a subscription in another process (store) is woken at once instead of at its next poll', async () => {
    const writer = await PostgresEventStore.create({ pool, schema: 'es_wake', notify: true });
    const reader = await PostgresEventStore.create({ connectionString: db.url, schema: 'es_wake', notify: true, pollIntervalMs: 60_000 });
    const got: number[] = [];
    const sub = reader.subscribeToAll({ onEvent: async () => void got.push(Date.now()) });
    try {
      await new Promise((r) => setTimeout(r, 500)); // first poll done, LISTEN connected; next poll in 60 s
      const sentAt = Date.now();
      await writer.appendToStream('order-wake', [event()]);
      const deadline = Date.now() + 5_000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(got).toHaveLength(1);
      expect(got[0] - sentAt).toBeLessThan(5_000);
    } finally {
      await sub.stop();
      await reader.close();
      await writer.close();
    }
  });

  it('readAll waits for its own append while an older transaction of this database ends, instead of returning without it', async () => {
    const held = await pool.connect();
    try {
      await held.query('BEGIN');
      await held.query('SELECT pg_current_xact_id()'); // older than the append below: holds the horizon under it
      await store.appendToStream('order-settle-1', [event('Settled')]);
      // Without waiting (a metrics probe): only what is final, at once.
      expect(await store.readAll({ filter: { streamPrefixes: ['order-settle-'] }, ownWritesTimeoutMs: 0 })).toEqual([]);
      const ended = new Promise((r) => setTimeout(r, 300)).then(() => held.query('COMMIT'));
      const read = await store.readAll({ filter: { streamPrefixes: ['order-settle-'] } });
      await ended;
      expect(read.map((e) => e.type)).toEqual(['Settled']);
    } finally {
      held.release();
    }
  });

  it('refuses to start on a log whose transaction ids are ahead of the cluster (restored from another cluster)', async () => {
    const restored = await PostgresEventStore.create({ pool, schema: 'es_restored' });
    await restored.close();
    // What pg_restore into a younger cluster leaves behind: ids this cluster has not reached.
    await pool.query(
      `INSERT INTO es_restored.events (transaction_id, stream_id, stream_position, event_id, event_type, data, metadata)
       VALUES ('900000000000'::xid8, 'order-r1', 0, 'restored-1', 'OrderPlaced', '{}', '{}')`,
    );
    await expect(PostgresEventStore.create({ pool, schema: 'es_restored' })).rejects.toThrow(/ahead of this cluster/);
  });

  it('refuses an event id already stored in another stream', async () => {
    const e = event();
    await store.appendToStream('order-d1', [e]);
    await expect(store.appendToStream('order-d2', [e])).rejects.toBeInstanceOf(DuplicateEventId);
    expect(await store.readStream('order-d2')).toEqual([]);
  });

  it('refuses a batch that repeats only some stored ids (not a retry of the same append)', async () => {
    const a = event();
    await store.appendToStream('order-d3', [a]);
    await expect(store.appendToStream('order-d3', [a, event()])).rejects.toBeInstanceOf(DuplicateEventId);
    expect(await store.readStream('order-d3')).toHaveLength(1);
  });

  it('appendToStreamWithin commits the events with the caller\'s own rows, or neither', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS public.order_view (id text PRIMARY KEY, status text)');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await store.appendToStreamWithin(client, 'order-w1', [event('OrderPlaced')], { expectedRevision: 'no_stream' });
      await client.query(`INSERT INTO public.order_view VALUES ('w1', 'placed')`);
      expect(await store.readStream('order-w1')).toEqual([]); // not visible before commit
      await client.query('COMMIT');

      await client.query('BEGIN');
      await store.appendToStreamWithin(client, 'order-w2', [event('OrderPlaced')], { expectedRevision: 'no_stream' });
      await client.query(`INSERT INTO public.order_view VALUES ('w2', 'placed')`);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await store.readStream('order-w1')).toHaveLength(1);
    expect(await store.readStream('order-w2')).toEqual([]);
    const rows = await pool.query(`SELECT id FROM public.order_view ORDER BY id`);
    expect(rows.rows.map((r) => r.id)).toEqual(['w1']);
  });

  it('appendToStreamWithin reports WrongExpectedVersion without aborting the caller\'s transaction', async () => {
    await store.appendToStream('order-w3', [event()]);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(store.appendToStreamWithin(client, 'order-w3', [event()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
        WrongExpectedVersion,
      );
      const r = await store.appendToStreamWithin(client, 'order-w3', [event()], { expectedRevision: 0 });
      await client.query('COMMIT');
      expect(r.nextExpectedRevision).toBe(1);
    } finally {
      client.release();
    }
  });

  it('refuses to append in a transaction whose id predates the stream head (log order would invert the stream)', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS public.scratch (id text)');
    const early = await pool.connect();
    try {
      await early.query('BEGIN');
      await early.query(`INSERT INTO public.scratch VALUES ('takes a transaction id now')`);
      await store.appendToStream('order-o1', [event('First')]); // a later transaction writes revision 0
      const error = await store.appendToStreamWithin(early, 'order-o1', [event('Second')], { expectedRevision: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutOfOrderAppend);
      await early.query('ROLLBACK');
    } finally {
      early.release();
    }
    expect((await store.readStream('order-o1')).map((e) => e.type)).toEqual(['First']);
  });

  it('reads the log straight off the (transaction_id, global_position) index, never sorting (a sort would mean text or wrong order)', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Tiny table: steer the planner off the scans it would pick anyway at this size.
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_bitmapscan = off');
      const plan = await client.query(`EXPLAIN ${logPageSql('"es_specifics"')}`, ['0', '-1', null, null, 500, [], null]);
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('events_log_order_idx');
      expect(text).not.toMatch(/\bSort\b/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('a caught-up poll of a large log walks the index, never scans the table (EXISTS once read 60,000 rows per poll)', async () => {
    // Its own schema with 30,000 rows in 30 transactions and fresh statistics, planner left free.
    const big = await PostgresEventStore.create({ pool, schema: 'es_big', pollIntervalMs: 50 });
    await big.close();
    for (let t = 0; t < 30; t++) {
      await pool.query(
        `INSERT INTO es_big.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
         SELECT 'order-' || $1 || '-' || g, 0, gen_random_uuid()::text, CASE WHEN g % 3 = 0 THEN 'OrderPaid' ELSE 'OrderPlaced' END, 1, '{}', '{}'
           FROM generate_series(1, 1000) AS g`,
        [t],
      );
    }
    await pool.query('ANALYZE es_big.events');
    const last = (await pool.query<{ tx: string; pos: string }>(`SELECT transaction_id::text AS tx, global_position::text AS pos FROM es_big.events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`)).rows[0];
    for (const [prefixes, types] of [[null, null], [null, ['OrderPaid']], [['order-1'], null]]) {
      const plan = await pool.query(`EXPLAIN ${logPageSql('es_big')}`, [last.tx, last.pos, prefixes, types, 500, [], null]);
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text, JSON.stringify({ prefixes, types })).not.toMatch(/Seq Scan on events/);
    }
  });

  it('reads log pages on the generic plan, which walks the index too, and leaves the connection on its own plan setting', async () => {
    // The page is read with plan_cache_mode forced to generic for that statement only (planning
    // its CTEs for every poll cost more than running them): the generic plan must not scan or sort.
    const big = await PostgresEventStore.create({ pool, schema: 'es_generic', pollIntervalMs: 50 });
    for (let t = 0; t < 20; t++) await big.appendToStream(`order-g${t}`, [event('OrderPlaced'), event('OrderPaid')]);
    await pool.query(
      `INSERT INTO es_generic.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
       SELECT 'order-bulk-' || g, 0, gen_random_uuid()::text, 'OrderPlaced', 1, '{}', '{}' FROM generate_series(1, 20000) AS g`,
    );
    await pool.query('ANALYZE es_generic.events');
    const client = await pool.connect();
    try {
      await client.query(`PREPARE es_generic_page (xid8, bigint, text[], text[], bigint, xid8[], xid8[]) AS ${logPageSql('es_generic')}`);
      await client.query('SET plan_cache_mode = force_generic_plan');
      for (const args of [`'0', -1, NULL, NULL, 500, '{}', NULL`, `'0', -1, NULL, ARRAY['OrderPaid'], 500, '{}', NULL`, `'0', -1, ARRAY['order-g1'], NULL, NULL, '{}', '{}'`]) {
        const text = (await client.query(`EXPLAIN EXECUTE es_generic_page(${args})`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(text, args).toContain('events_log_order_idx');
        expect(text, args).not.toMatch(/Seq Scan on events|\bSort\b/);
      }
    } finally {
      await client.query('RESET plan_cache_mode; DEALLOCATE ALL').catch(() => undefined);
      client.release();
    }
    const paid = await big.readAll({ filter: { eventTypes: ['OrderPaid'] } });
    expect(paid.map((e) => e.streamId)).toEqual(Array.from({ length: 20 }, (_, t) => `order-g${t}`));
    expect((await big.readAll({ filter: { streamPrefixes: ['order-g1'] }, maxCount: 3 })).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid', 'OrderPlaced']);
    // The store's own reads ran on the generic plan: on a pool of one connection, its page statement
    // was planned generically for every read and never custom.
    const one = new Pool({ connectionString: db.url, max: 1 });
    try {
      const onOne = await PostgresEventStore.create({ pool: one, schema: 'es_generic' });
      for (let i = 0; i < 6; i++) await onOne.readAll({ filter: { eventTypes: ['OrderPaid'] }, maxCount: 5 });
      const plans = await one.query<{ generic_plans: string; custom_plans: string }>(
        `SELECT generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE statement LIKE '%pg_current_snapshot()%'`,
      );
      expect(plans.rows).toHaveLength(1);
      expect(Number(plans.rows[0].generic_plans)).toBeGreaterThanOrEqual(6);
      expect(plans.rows[0].custom_plans).toBe('0');
      await onOne.close();
    } finally {
      await one.end();
    }
    // SET LOCAL ended with the page's own statement batch: every connection of the pool is back on 'auto'.
    const clients = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
    try {
      for (const c of clients) expect((await c.query(`SELECT current_setting('plan_cache_mode') AS m`)).rows[0].m).toBe('auto');
    } finally {
      for (const c of clients) c.release();
    }
    await big.close();
  });

  describe('appendToStreamsWithin', () => {
    const within = async <T>(fn: (c: PoolClient) => Promise<T>, commit = true): Promise<T> => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await fn(c);
        await c.query(commit ? 'COMMIT' : 'ROLLBACK');
        return r;
      } catch (e) {
        await c.query('ROLLBACK');
        throw e;
      } finally {
        c.release();
      }
    };

    it('appends to several streams in one transaction and returns each stream\'s result', async () => {
      await store.appendToStream('multi-a', [event('A0')]);
      const results = await within((c) =>
        store.appendToStreamsWithin(c, [
          { streamId: 'multi-a', events: [event('A1'), event('A2')], expectedRevision: 0 },
          { streamId: 'multi-b', events: [event('B0')], expectedRevision: 'no_stream' },
          { streamId: 'multi-c', events: [event('C0')] },
        ]),
      );
      expect(results.map((r) => r.nextExpectedRevision)).toEqual([2, 0, 0]);
      expect((await store.readStream('multi-a')).map((e) => e.type)).toEqual(['A0', 'A1', 'A2']);
      const b = await store.readStream('multi-b');
      expect(b[0].position).toEqual(results[1].position);
      expect(new Set(results.map((r) => r.position.commit)).size).toBe(1); // one transaction
    });

    it('writes nothing when one stream\'s expected revision is stale', async () => {
      await store.appendToStream('multi-d', [event()]);
      const error = await within((c) =>
        store.appendToStreamsWithin(c, [
          { streamId: 'multi-e', events: [event()], expectedRevision: 'no_stream' },
          { streamId: 'multi-d', events: [event()], expectedRevision: 'no_stream' },
        ]),
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'multi-d', actual: 0 });
      expect(await store.readStream('multi-e')).toEqual([]);
    });

    it('of two transactions racing for the same stream revision, the later one gets WrongExpectedVersion', async () => {
      const first = await pool.connect();
      try {
        await first.query('BEGIN');
        await store.appendToStreamsWithin(first, [{ streamId: 'multi-f', events: [event('First')], expectedRevision: 'no_stream' }]);
        const second = within((c) => store.appendToStreamsWithin(c, [{ streamId: 'multi-f', events: [event('Second')], expectedRevision: 'no_stream' }])).catch(
          (e: unknown) => e,
        );
        await new Promise((r) => setTimeout(r, 200));
        await first.query('COMMIT');
        expect(await second).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'multi-f', actual: 0 });
      } finally {
        first.release();
      }
      expect((await store.readStream('multi-f')).map((e) => e.type)).toEqual(['First']);
    });

    it('a retried batch returns the same results without writing again', async () => {
      const batch = [
        { streamId: 'multi-g', events: [event()], expectedRevision: 'no_stream' as const },
        { streamId: 'multi-h', events: [event(), event()], expectedRevision: 'no_stream' as const },
      ];
      const once = await within((c) => store.appendToStreamsWithin(c, batch));
      const again = await within((c) => store.appendToStreamsWithin(c, batch));
      expect(again).toEqual(once);
      expect(await store.readStream('multi-h')).toHaveLength(2);
    });

    it("checks 'any', 'stream_exists' and exact revisions per stream, and writes nothing when one fails", async () => {
      await store.appendToStream('multi-j', [event('J0')]);
      await store.appendToStream('multi-k', [event('K0'), event('K1')]);
      const ok = await within((c) =>
        store.appendToStreamsWithin(c, [
          { streamId: 'multi-j', events: [event('J1')], expectedRevision: 'any' },
          { streamId: 'multi-k', events: [event('K2')], expectedRevision: 'stream_exists' },
          { streamId: 'multi-l', events: [event('L0'), event('L1')], expectedRevision: 'any' },
        ]),
      );
      expect(ok.map((r) => r.nextExpectedRevision)).toEqual([1, 2, 1]);
      expect(ok.map((r) => r.position.prepare)).toEqual([...ok.map((r) => r.position.prepare)].sort((a, b) => (a < b ? -1 : 1)));

      const missing = await within((c) =>
        store.appendToStreamsWithin(c, [
          { streamId: 'multi-m', events: [event()], expectedRevision: 'no_stream' },
          { streamId: 'multi-n', events: [event()], expectedRevision: 'stream_exists' },
        ]),
      ).catch((e: unknown) => e);
      expect(missing).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'multi-n', expected: 'stream_exists', actual: 'no_stream' });
      // A revision the stream has not reached: appending there would leave a hole, no constraint catches it.
      const ahead = await within((c) =>
        store.appendToStreamsWithin(c, [
          { streamId: 'multi-m', events: [event()], expectedRevision: 'no_stream' },
          { streamId: 'multi-k', events: [event()], expectedRevision: 5 },
        ]),
      ).catch((e: unknown) => e);
      expect(ahead).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'multi-k', expected: 5, actual: 2 });
      expect(await store.readStream('multi-m')).toEqual([]);
      expect((await store.readStream('multi-k')).map((e) => e.type)).toEqual(['K0', 'K1', 'K2']);
    });

    it('refuses an event id stored in another stream (DuplicateEventId) and writes nothing', async () => {
      const taken = event();
      await store.appendToStream('multi-o', [taken]);
      const error = await within((c) =>
        store.appendToStreamsWithin(c, [
          { streamId: 'multi-p', events: [event()], expectedRevision: 'no_stream' },
          { streamId: 'multi-q', events: [{ ...taken }], expectedRevision: 'no_stream' },
        ]),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateEventId);
      expect(await store.readStream('multi-p')).toEqual([]);
    });

    it('with notify, the append NOTIFYs on commit', async () => {
      const notifying = await PostgresEventStore.create({ pool, schema: 'es_multi_notify', notify: true });
      const listener = await pool.connect();
      try {
        const heard = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.channel)));
        await listener.query('LISTEN es_multi_notify_events');
        await within((c) => notifying.appendToStreamsWithin(c, [{ streamId: 'multi-r', events: [event()], expectedRevision: 'no_stream' }]));
        expect(await Promise.race([heard, new Promise((r) => setTimeout(() => r('timeout'), 5_000))])).toBe('es_multi_notify_events');
      } finally {
        await listener.query('UNLISTEN *');
        listener.release();
        await notifying.close();
      }
    });

    it("a read with lockStreams holds their locks for its transaction: another 'any' append waits, the holder's own sends no lock statement", async () => {
      await store.appendToStream('lock-order', [event('O0')]);
      const holder = await pool.connect();
      const statements: string[] = [];
      const query = holder.query.bind(holder) as (...a: unknown[]) => unknown;
      const counting = (...a: unknown[]) => {
        const q = a[0] as string | { text: string };
        statements.push(typeof q === 'string' ? q : q.text);
        return query(...a);
      };
      const counted = Object.assign(Object.create(holder) as PoolClient, { query: counting });
      let other: Promise<unknown> = Promise.resolve();
      try {
        await holder.query('BEGIN');
        const read = await store.readStreamWithin(counted, 'lock-order', { lockStreams: ['lock-process'] });
        expect(read.map((e) => e.type)).toEqual(['O0']);
        expect(statements).toHaveLength(1);
        // Waits for the holder's lock (before, it would have read the head and inserted first).
        other = within((c) => store.appendToStreamsWithin(c, [{ streamId: 'lock-process', events: [event('Other')], expectedRevision: 'any' }]));
        await new Promise((r) => setTimeout(r, 200));
        statements.length = 0;
        await store.appendToStreamsWithin(counted, [
          { streamId: 'lock-order', events: [event('O1')], expectedRevision: 0 },
          { streamId: 'lock-process', events: [event('Mine')], expectedRevision: 'any' },
        ]);
        expect(statements.filter((t) => t.includes('pg_advisory_xact_lock'))).toEqual([]);
        expect(statements).toHaveLength(1);
        await holder.query('COMMIT');
        expect(await other).toMatchObject([{ nextExpectedRevision: 1 }]);
        expect((await store.readStream('lock-process')).map((e) => e.type)).toEqual(['Mine', 'Other']);

        // The transaction ended: its locks are not assumed any more, the next 'any' append locks again.
        statements.length = 0;
        await holder.query('BEGIN');
        await store.appendToStreamsWithin(counted, [{ streamId: 'lock-process', events: [event('Next')], expectedRevision: 'any' }]);
        await holder.query('COMMIT');
        expect(statements.filter((t) => t.includes('pg_advisory_xact_lock'))).toHaveLength(1);
      } finally {
        await other.catch(() => undefined);
        holder.release();
      }
    });

    it('streamReadSql reads in a batch of the caller as readStreamWithin does, locks included', async () => {
      await store.appendToStream('batch-order', [event('B0'), event('B1')]);
      const c = await pool.connect();
      try {
        const sent: string[] = [];
        const query = c.query.bind(c) as (...a: unknown[]) => unknown;
        const counted = Object.assign(Object.create(c) as PoolClient, { query: (...a: unknown[]) => (sent.push(String((a[0] as { text?: string }).text ?? a[0])), query(...a)) });
        const statement = store.streamReadSql(counted, 'batch-order', { lockStreams: ["batch-process-o'brien"] });
        // First use on this connection: each statement is prepared, then executed.
        expect(statement.statements).toBe(4);
        const results = (await c.query(`BEGIN; ${statement.sql}`)) as unknown as QueryResult[];
        const events = statement.read(results.slice(1));
        expect(events).toEqual(await store.readStream('batch-order'));
        const held = await pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1`, [(c as unknown as { processID: number }).processID]);
        expect(held.rows[0].n).toBe(1);
        await store.appendToStreamsWithin(counted, [{ streamId: "batch-process-o'brien", events: [event()], expectedRevision: 'any' }]);
        expect(sent).toHaveLength(1);
        await c.query('COMMIT');
        // Confirmed: the next batch on this connection only executes them.
        const again = store.streamReadSql(counted, 'batch-order');
        expect(again.statements).toBe(1);
        expect(again.read([(await c.query(again.sql)) as unknown as QueryResult])).toEqual(events);
      } finally {
        c.release();
      }
      expect(await store.readStream("batch-process-o'brien")).toHaveLength(1);
    });

    it('streamReadSql refuses a stream id holding a NUL as a content error before anything is sent (inlined, it broke the message with 08P01)', async () => {
      // Why: inside a simple query's text U+0000 ends the protocol message early; the server
      // refuses it as a protocol violation, which consumers read as a connection fault.
      const raw = new Pool({ connectionString: db.url, max: 1 });
      raw.on('error', () => undefined);
      await expect(raw.query(`SELECT 'a\u0000b'`)).rejects.toMatchObject({ code: '08P01' });
      await raw.end().catch(() => undefined);

      const c = await pool.connect();
      try {
        const sent: unknown[] = [];
        const query = c.query.bind(c) as (...a: unknown[]) => unknown;
        const counted = Object.assign(Object.create(c) as PoolClient, { query: (...a: unknown[]) => (sent.push(a[0]), query(...a)) });
        expect(() => store.streamReadSql(counted, 'nul-\u0000-order')).toThrow(RangeError);
        expect(() => store.streamReadSql(counted, 'nul-order', { lockStreams: ['nul-\u0000-process'] })).toThrow(/a stream id holds a NUL character/);
        expect(sent).toEqual([]);
        // The connection is untouched: a read of a plain id right after works.
        await store.appendToStream('nul-order', [event()]);
        const statement = store.streamReadSql(counted, 'nul-order', { lockStreams: ['nul-process'] });
        const results = (await c.query(`BEGIN; ${statement.sql}`)) as unknown as QueryResult[];
        expect(statement.read(results.slice(1))).toHaveLength(1);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    });

    describe('deferredAppendSql (the caller sends the append in its own batch, e.g. with its COMMIT)', () => {
      type Deferred = NonNullable<ReturnType<PostgresEventStore['deferredAppendSql']>>;
      const deferred = (c: PoolClient, appends: Parameters<PostgresEventStore['deferredAppendSql']>[1]): Deferred => {
        const d = store.deferredAppendSql(c, appends);
        if (!d) throw new Error('not deferrable');
        return d;
      };
      /** BEGIN; [before;] the append; COMMIT as one batch: its result, or the translated error (rolled back). */
      const run = async (c: PoolClient, d: Deferred, before = '') => {
        try {
          const results = (await c.query(`${before}${d.sql}; COMMIT`)) as unknown as QueryResult[];
          return d.committed(results[results.length - 2]);
        } catch (error) {
          await c.query('ROLLBACK');
          return d.translate(error);
        }
      };

      it('new streams: positions from 0, results as readStream has them; a stream or id that exists fails it, nothing stays', async () => {
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          const append = deferred(c, [
            { streamId: 'new-a', events: [event('A0'), event('A1')], expectedRevision: 'no_stream' },
            { streamId: 'new-b', events: [event('B0')], expectedRevision: 'no_stream' },
          ]);
          expect(append.revisions).toEqual([1, 0]);
          const appended = await run(c, append);
          const a = await store.readStream('new-a');
          const b = await store.readStream('new-b');
          expect(a.map((e) => e.type)).toEqual(['A0', 'A1']);
          expect(appended).toEqual([
            { nextExpectedRevision: 1, position: a[1].position },
            { nextExpectedRevision: 0, position: b[0].position },
          ]);

          await c.query('BEGIN');
          const again = deferred(c, [
            { streamId: 'new-c', events: [event('C0')], expectedRevision: 'no_stream' },
            { streamId: 'new-a', events: [event('A2')], expectedRevision: 'no_stream' },
          ]);
          expect(await run(c, again)).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'new-a', actual: 0 });
          expect(await store.readStream('new-c')).toEqual([]);

          await c.query('BEGIN');
          const taken = deferred(c, [{ streamId: 'new-d', events: [{ ...event('Dup'), eventId: a[0].eventId }], expectedRevision: 'no_stream' }]);
          expect(await run(c, taken)).toBeInstanceOf(DuplicateEventId);

          // Another table's unique violation is not the store's to translate.
          await pool.query('CREATE TABLE IF NOT EXISTS public.unique_scratch (id text PRIMARY KEY)');
          await pool.query(`INSERT INTO public.unique_scratch VALUES ('x') ON CONFLICT DO NOTHING`);
          await c.query('BEGIN');
          const other = deferred(c, [{ streamId: 'new-e', events: [event()], expectedRevision: 'no_stream' }]);
          const foreign = await c.query(`${other.sql}; INSERT INTO public.unique_scratch VALUES ('x'); COMMIT`).catch((e: unknown) => e);
          await c.query('ROLLBACK');
          expect(other.translate(foreign)).toBe(foreign);
          expect(await store.readStream('new-e')).toEqual([]);
        } finally {
          c.release();
        }
      });

      it("an exact revision appends after it; a stream that moved on, or is behind it, fails (WrongExpectedVersion, no hole); 'any' only under the read's lock", async () => {
        await store.appendToStream('def-o', [event('O0'), event('O1')]);
        await store.appendToStream('def-p', [event('P0')]);
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          // 'any' without the stream's lock: not deferrable.
          expect(store.deferredAppendSql(c, [{ streamId: 'def-p', events: [event()], expectedRevision: 'any' }])).toBeUndefined();
          expect(store.deferredAppendSql(c, [{ streamId: 'def-p', events: [event()], expectedRevision: 'stream_exists' }])).toBeUndefined();
          await store.readStreamWithin(c, 'def-o', { lockStreams: ['def-p'] });
          const ok = deferred(c, [
            { streamId: 'def-o', events: [event('O2')], expectedRevision: 1 },
            { streamId: 'def-p', events: [event('P1'), event('P2')], expectedRevision: 'any' },
          ]);
          expect(ok.revisions).toEqual([2, undefined]);
          expect((await run(c, ok)) as unknown[]).toMatchObject([{ nextExpectedRevision: 2 }, { nextExpectedRevision: 2 }]);
          expect((await store.readStream('def-p')).map((e) => e.type)).toEqual(['P0', 'P1', 'P2']);

          // The stream moved on (another writer appended at 3 after this transaction read 2).
          await c.query('BEGIN');
          const stale = deferred(c, [{ streamId: 'def-o', events: [event('Stale')], expectedRevision: 2 }]);
          await store.appendToStream('def-o', [event('O3')]);
          expect(await run(c, stale)).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'def-o', actual: 3 });

          // Behind: a revision the stream has not reached would leave a hole; no key catches it, the statement fails.
          await c.query('BEGIN');
          const ahead = deferred(c, [{ streamId: 'def-o', events: [event('Hole')], expectedRevision: 7 }]);
          expect(await run(c, ahead)).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'def-o', expected: 7, actual: 3 });
          expect((await store.readStream('def-o')).map((e) => e.type)).toEqual(['O0', 'O1', 'O2', 'O3']);
        } finally {
          c.release();
        }
      });

      it('with notify, the deferred append NOTIFYs on commit', async () => {
        const notifying = await PostgresEventStore.create({ pool, schema: 'es_deferred_notify', notify: true });
        const listener = await pool.connect();
        const c = await pool.connect();
        try {
          const heard = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.channel)));
          await listener.query('LISTEN es_deferred_notify_events');
          await c.query('BEGIN');
          const append = notifying.deferredAppendSql(c, [{ streamId: 'def-n', events: [event()], expectedRevision: 'no_stream' }]);
          if (!append) throw new Error('not deferrable');
          const results = (await c.query(`${append.sql}; COMMIT`)) as unknown as QueryResult[];
          expect(append.committed(results[results.length - 2])).toMatchObject([{ nextExpectedRevision: 0 }]);
          expect(await Promise.race([heard, new Promise((r) => setTimeout(() => r('timeout'), 5_000))])).toBe('es_deferred_notify_events');
        } finally {
          await listener.query('UNLISTEN *');
          listener.release();
          c.release();
          await notifying.close();
        }
      });

      it('KEYED_GENERIC_PLANS_SQL turns generic plans on and sequential scans and JIT off for the transaction only', async () => {
        const c = await pool.connect();
        const settings = `SELECT current_setting('plan_cache_mode') AS mode, current_setting('enable_seqscan') AS seqscan, current_setting('jit') AS jit`;
        try {
          const before = (await c.query(settings)).rows[0];
          expect(before.mode).toBe('auto');
          expect(before.seqscan).toBe('on');
          await c.query(`BEGIN; ${KEYED_GENERIC_PLANS_SQL}`);
          expect((await c.query(settings)).rows[0]).toEqual({ mode: 'force_generic_plan', seqscan: 'off', jit: 'off' });
          await c.query('COMMIT');
          expect((await c.query(settings)).rows[0]).toEqual(before);
          await c.query(`BEGIN; ${KEYED_GENERIC_PLANS_SQL}`);
          await c.query('ROLLBACK');
          expect((await c.query(settings)).rows[0]).toEqual(before);
        } finally {
          c.release();
        }
      });

      it('a keyed lookup planned under KEYED_GENERIC_PLANS_SQL on an empty table probes its index once the table has grown (a plain generic plan scans it)', async () => {
        const c = await pool.connect();
        const plan = async (name: string) => {
          await c.query(`BEGIN; ${KEYED_GENERIC_PLANS_SQL}`);
          try {
            return (await c.query(`EXPLAIN EXECUTE ${name}('k-1')`)).rows.map((r) => r['QUERY PLAN'] as string).join('\n');
          } finally {
            await c.query('ROLLBACK');
          }
        };
        try {
          await c.query('CREATE TABLE public.keyed_probe (id bigserial PRIMARY KEY, k text NOT NULL, pad text NOT NULL); CREATE INDEX keyed_probe_k ON public.keyed_probe (k)');
          await c.query('VACUUM (ANALYZE) public.keyed_probe');
          await c.query('PREPARE keyed_scanless (text) AS SELECT count(*) FROM public.keyed_probe WHERE k = $1');
          await c.query('PREPARE keyed_plain (text) AS SELECT count(*) FROM public.keyed_probe WHERE k = $1');
          // Both planned now, on the empty table: one with scans off, one on a plain generic plan.
          await plan('keyed_scanless');
          await c.query(`BEGIN; ${FORCE_GENERIC_PLANS_SQL}; EXECUTE keyed_plain('k-1'); ROLLBACK`);
          await c.query(`INSERT INTO public.keyed_probe (k, pad) SELECT 'k-' || g, repeat('x', 200) FROM generate_series(1, 20000) g`);
          expect(await plan('keyed_scanless')).toMatch(/Index (Only )?Scan using keyed_probe_k|Bitmap Index Scan on keyed_probe_k/);
          await c.query(`BEGIN; ${FORCE_GENERIC_PLANS_SQL}`);
          const plain = (await c.query(`EXPLAIN EXECUTE keyed_plain('k-1')`)).rows.map((r) => r['QUERY PLAN'] as string).join('\n');
          await c.query('ROLLBACK');
          expect(plain).toMatch(/Seq Scan on keyed_probe/);
        } finally {
          await c.query('DEALLOCATE keyed_scanless; DEALLOCATE keyed_plain; DROP TABLE IF EXISTS public.keyed_probe').catch(() => undefined);
          c.release();
        }
      });

      it('on a generic plan made while the log was empty, an append still probes the index per event once the log has grown (no hashed scan of the log)', async () => {
        // The plan a connection makes on its first append is kept for the connection's life. The
        // first one of a new system is made on an empty log, where reading the whole table once
        // (a hashed EXISTS) looks cheaper than one probe per event: that plan then read every event
        // on every append (order-intake at 13k events: 6 ms and 2,400 buffers a call).
        const grown = await PostgresEventStore.create({ pool, schema: 'es_grow' });
        const fresh = new Pool({ connectionString: db.url, max: 1 });
        const c = await fresh.connect();
        const append = (streamId: string, expectedRevision: 'no_stream' | number) => {
          const d = grown.deferredAppendSql(c, [{ streamId, events: [event()], expectedRevision }]);
          if (!d) throw new Error('not deferrable');
          return d;
        };
        try {
          await pool.query('VACUUM (ANALYZE) es_grow.events');
          for (const [stream, revision] of [['grow-a', 'no_stream'], ['grow-a', 0], ['grow-b', 'no_stream']] as const) {
            await c.query(`BEGIN; ${KEYED_GENERIC_PLANS_SQL}`);
            await run(c, append(stream, revision));
          }
          await pool.query(
            `INSERT INTO es_grow.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
             SELECT 'bulk-' || (g / 4), g % 4, 'bulk-' || g, 'Bulk', 1, jsonb_build_object('n', g, 'pad', repeat('x', 300)), '{}' FROM generate_series(0, 19999) g`,
          );
          await c.query(`BEGIN; ${KEYED_GENERIC_PLANS_SQL}`);
          const next = append('grow-a', 1);
          const execute = /EXECUTE flowline_esb_\w+\(.*\)$/s.exec(next.sql)?.[0];
          expect(execute).toBeDefined();
          const plan = (await c.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${execute}`)).rows[0]['QUERY PLAN'][0];
          await c.query('ROLLBACK');
          const text = JSON.stringify(plan);
          expect(text).not.toContain('hashed');
          expect(plan.Plan['Shared Hit Blocks'] + plan.Plan['Shared Read Blocks']).toBeLessThan(100);
        } finally {
          c.release();
          await fresh.end();
          await grown.close();
        }
      });

      it('an append built but never sent does not mark its statement prepared: the one sent is confirmed, the next batches run', async () => {
        const fresh = new Pool({ connectionString: db.url, max: 1 }); // a connection that has prepared nothing yet
        const c = await fresh.connect();
        try {
          await c.query('BEGIN');
          const sent = deferred(c, [{ streamId: 'built-a', events: [event()], expectedRevision: 'no_stream' }]);
          const dropped = deferred(c, [{ streamId: 'built-b', events: [event()], expectedRevision: 'no_stream' }]);
          expect([sent.statements, dropped.statements]).toEqual([2, 2]); // each with a PREPARE of its own name
          expect(await run(c, sent)).toMatchObject([{ nextExpectedRevision: 0 }]);
          // Had `dropped`'s name been confirmed, this would EXECUTE a statement that does not exist (26000).
          for (const n of [1, 2]) {
            await c.query('BEGIN');
            const next = deferred(c, [{ streamId: 'built-a', events: [event()], expectedRevision: n - 1 }]);
            expect(await run(c, next)).toMatchObject([{ nextExpectedRevision: n }]);
          }
          expect(await store.readStream('built-b')).toEqual([]);
          expect((await store.readStream('built-a')).length).toBe(3);
        } finally {
          c.release();
          await fresh.end();
        }
      });

      it('a stream another transaction is creating makes the batch wait, then fail (WrongExpectedVersion)', async () => {
        const first = await pool.connect();
        const fresh = new Pool({ connectionString: db.url, max: 1 }); // a connection that has prepared nothing yet
        const c = await fresh.connect();
        try {
          await first.query('BEGIN');
          await store.appendToStreamsWithin(first, [{ streamId: 'new-race', events: [event('First')], expectedRevision: 'no_stream' }]);
          await c.query('BEGIN');
          const outcome = run(c, deferred(c, [{ streamId: 'new-race', events: [event('Second')], expectedRevision: 'no_stream' }]));
          await new Promise((r) => setTimeout(r, 200));
          await first.query('COMMIT');
          expect(await outcome).toMatchObject({ name: 'WrongExpectedVersion', streamId: 'new-race', actual: 0 });
          // That batch prepared the statement and failed: the next one prepares it afresh (no "already exists").
          await c.query('BEGIN');
          const next = deferred(c, [{ streamId: 'new-race-next', events: [event()], expectedRevision: 'no_stream' }]);
          expect(next.statements).toBe(2);
          expect(await run(c, next)).toMatchObject([{ nextExpectedRevision: 0 }]);
          await c.query('BEGIN');
          const then = deferred(c, [{ streamId: 'new-race-next', events: [event()], expectedRevision: 0 }]);
          expect(then.statements).toBe(1);
          expect(await run(c, then)).toMatchObject([{ nextExpectedRevision: 1 }]);
        } finally {
          first.release();
          c.release();
          await fresh.end();
        }
        expect((await store.readStream('new-race')).map((e) => e.type)).toEqual(['First']);
      });
    });

    it('planned on an empty log in a generic-plan transaction (inventory\'s unit of work), an append probes the index once the log has grown, and leaves the transaction\'s plan settings as they were', async () => {
      // A generic plan is kept for the connection's life. Made on a new system's empty log, the
      // append's head lookups and "is any of these event ids stored?" read the whole table, and went
      // on doing so as the log grew (inventory: 559 buffers an append in a new system's first minutes,
      // 69 once planned again). auto_explain reports what the append's statement itself read.
      const grown = await PostgresEventStore.create({ pool, schema: 'es_grow_within' });
      const fresh = new Pool({ connectionString: db.url, max: 1 });
      const c = await fresh.connect();
      const settings = `SELECT current_setting('plan_cache_mode') AS mode, current_setting('enable_seqscan') AS seqscan, current_setting('jit') AS jit`;
      const appendIn = async (appends: { streamId: string; events: NewEvent[]; expectedRevision?: 'no_stream' | 'any' | number }[]) => {
        await c.query(`BEGIN; ${FORCE_GENERIC_PLANS_SQL}`);
        try {
          const before = (await c.query(settings)).rows[0];
          const results = await grown.appendToStreamsWithin(c, appends);
          expect((await c.query(settings)).rows[0]).toEqual(before);
          await c.query('COMMIT');
          return results;
        } catch (error) {
          await c.query('ROLLBACK');
          throw error;
        }
      };
      const plans: { Plan: Record<string, unknown> }[] = [];
      c.on('notice', (n) => {
        const json = /plan:\s*(\{[\s\S]*\})\s*$/.exec(n.message ?? '')?.[1];
        if (json) plans.push(JSON.parse(json));
      });
      try {
        await pool.query('VACUUM (ANALYZE) es_grow_within.events');
        await appendIn([{ streamId: 'grow-a', events: [event()], expectedRevision: 'no_stream' }]);
        await appendIn([{ streamId: 'grow-a', events: [event()], expectedRevision: 0 }]);
        await appendIn([{ streamId: 'grow-b', events: [event()], expectedRevision: 'any' }]);
        await pool.query(
          `INSERT INTO es_grow_within.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
           SELECT 'bulk-' || (g / 4), g % 4, 'bulk-' || g, 'Bulk', 1, jsonb_build_object('n', g, 'pad', repeat('x', 300)), '{}' FROM generate_series(0, 19999) g`,
        );
        await c.query(`LOAD 'auto_explain'`);
        await c.query(
          `SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET auto_explain.log_format = json; SET auto_explain.log_level = notice; SET client_min_messages = notice`,
        );
        const [a, b] = await appendIn([
          { streamId: 'grow-a', events: [event()], expectedRevision: 1 },
          { streamId: 'grow-b', events: [event()], expectedRevision: 'any' },
        ]);
        expect([a.nextExpectedRevision, b.nextExpectedRevision]).toEqual([2, 1]);
        await c.query('RESET auto_explain.log_min_duration; RESET client_min_messages');
        const inserts = plans.filter((p) => JSON.stringify(p).includes('"Operation":"Insert"'));
        expect(inserts).toHaveLength(1);
        const plan = inserts[0].Plan as { 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
        const scans = [...JSON.stringify(inserts[0]).matchAll(/"Node Type":"(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)"/g)].map((m) => m[1]);
        expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks'], scans.join(', ')).toBeLessThan(100);
      } finally {
        c.release();
        await fresh.end();
        await grown.close();
      }
    });

    it('refuses a stream whose head was written by a newer transaction (OutOfOrderAppend)', async () => {
      await pool.query('CREATE TABLE IF NOT EXISTS public.scratch (id text)');
      const error = await within(async (c) => {
        await c.query(`INSERT INTO public.scratch VALUES ('takes a transaction id now')`);
        await store.appendToStream('multi-i', [event()]);
        return store.appendToStreamsWithin(c, [{ streamId: 'multi-i', events: [event()], expectedRevision: 0 }]);
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutOfOrderAppend);
    });
  });

  it('stores type, schema version, data and metadata in their own columns', async () => {
    const e: NewEvent = {
      ...event('OrderPlaced'),
      schemaVersion: 3,
      data: { orderId: 'o-9', amount: 1999 },
      metadata: { correlationId: 'corr-1', causationId: 'cmd-1', occurredAt: '2026-05-01T08:00:00.000Z', actor: { kind: 'service', id: 'intake' }, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    };
    await store.appendToStream('order-c1', [e]);
    const row = (await pool.query(`SELECT event_type, schema_version, data, metadata FROM es_specifics.events WHERE event_id = $1`, [e.eventId])).rows[0];
    expect(row).toEqual({ event_type: 'OrderPlaced', schema_version: 3, data: e.data, metadata: e.metadata });
  });
});
