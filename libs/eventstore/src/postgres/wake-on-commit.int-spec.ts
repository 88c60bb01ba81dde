import { randomUUID } from 'node:crypto';
import { createTestDatabase, withTransactionInOtherDatabase } from '@flowline/testing';
import { Pool, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent, RecordedEvent, Subscription } from '../port';
import { PostgresEventStore } from './postgres-event-store';

/**
 * Subscriptions are woken when an append commits, not by the poll: every store here polls once an
 * hour, so an event can only arrive within the test's (generous) wait through the wake-up.
 */
const HOUR = 3_600_000;
const WAIT_MS = 60_000;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let other: PostgresEventStore;
const seen: RecordedEvent[] = [];
let sub: Subscription;

beforeAll(async () => {
  db = await createTestDatabase('eventstore_wake');
  pool = new Pool({ connectionString: db.url, max: 6 });
  pool.on('error', () => undefined); // DROP DATABASE ... FORCE at teardown ends idle clients
  store = await PostgresEventStore.create({ pool, pollIntervalMs: HOUR });
  // A second store object on the same database and schema (a handler's, while the relay holds the first).
  other = await PostgresEventStore.create({ pool, pollIntervalMs: HOUR });
  sub = store.subscribeToAll({ onEvent: async (e) => void seen.push(e) });
});

afterAll(async () => {
  await sub?.stop();
  await store?.close();
  await other?.close();
  await pool?.end();
  await db?.drop();
});

function event(): NewEvent {
  return { eventId: randomUUID(), type: 'Happened', data: {}, metadata: { correlationId: randomUUID(), causationId: null, occurredAt: new Date(0).toISOString() } };
}

async function delivered(eventId: string): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while (!seen.some((e) => e.eventId === eventId)) {
    if (Date.now() > until) throw new Error(`event ${eventId} not delivered within ${WAIT_MS} ms (poll interval is an hour: the commit wake-up did not happen)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function inTransaction(fn: (client: PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await fn(client);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

describe('wake-up on commit (poll interval one hour)', () => {
  it('delivers a plain append at once', async () => {
    const e = event();
    await other.appendToStream(`s-${randomUUID()}`, [e]);
    await delivered(e.eventId);
  });

  it('delivers an appendToStreamWithin when the caller commits', async () => {
    const e = event();
    await inTransaction(async (client) => {
      await other.appendToStreamWithin(client, `s-${randomUUID()}`, [e]);
      await client.query('SELECT 1'); // the caller's own writes after the append
    });
    await delivered(e.eventId);
  });

  it('delivers every stream of an appendToStreamsWithin after several appends in one transaction', async () => {
    const a = event();
    const b = event();
    const c = event();
    await inTransaction(async (client) => {
      await other.appendToStreamsWithin(client, [
        { streamId: `s-${randomUUID()}`, events: [a] },
        { streamId: `t-${randomUUID()}`, events: [b], expectedRevision: 'no_stream' },
      ]);
      await store.appendToStreamWithin(client, `u-${randomUUID()}`, [c]);
    });
    await Promise.all([delivered(a.eventId), delivered(b.eventId), delivered(c.eventId)]);
  });

  it('delivers an event whose commit waited behind an older open transaction', async () => {
    // The older transaction holds the log horizon: the first look after the commit sees nothing,
    // and the subscription looks again shortly instead of sleeping a poll interval.
    const older = await pool.connect();
    const e = event();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      await inTransaction((client) => other.appendToStreamWithin(client, `s-${randomUUID()}`, [e]).then(() => undefined));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.some((x) => x.eventId === e.eventId)).toBe(false); // held back by the open transaction, as it must be
      await older.query('COMMIT');
    } finally {
      older.release();
    }
    await delivered(e.eventId);
  });

  it('delivers an event committed while a just-started transaction of another database runs (attribution deferred, then the quick retry)', async () => {
    // The foreign transaction is older than the append and was never seen by a poll: the first
    // look stops below it without reading pg_stat_activity and must look again shortly, when it
    // is old enough to attribute, instead of sleeping the hour.
    const e = event();
    await withTransactionInOtherDatabase('eventstore_wake_other', async () => {
      await other.appendToStream(`s-${randomUUID()}`, [e]);
      await delivered(e.eventId); // while the foreign transaction is still open
    });
  });

  it('does not deliver a rolled-back append', async () => {
    const gone = event();
    const kept = event();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await other.appendToStreamWithin(client, `s-${randomUUID()}`, [gone]);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    await other.appendToStream(`s-${randomUUID()}`, [kept]);
    await delivered(kept.eventId);
    expect(seen.some((x) => x.eventId === gone.eventId)).toBe(false);
  });
});
