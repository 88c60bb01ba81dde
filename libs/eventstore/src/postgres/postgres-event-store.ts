import { createHash } from 'node:crypto';
import { Client, type ClientConfig, type DatabaseError, Pool, type PoolConfig, type QueryConfig, type QueryResult, type QueryResultRow } from 'pg';
import { assertAppendable, ChangeSignal, checkExpectedRevision, type PollPage, startPollingSubscription } from '../internal';
import {
  type AppendResult,
  DuplicateEventId,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedVersion,
} from '../port';
import { instrumentAppend, withTraceparent } from '../telemetry';
import { DEFAULT_SCHEMA, migrate, notifyChannel, quoteSchema } from './migrations';
import { guardPool } from './pool-guard';
import { escapeSqlLiteral, sqlLiteral } from './sql-literal';

/**
 * Anything that runs a parameterised query: a pg `PoolClient` or `Client` (for example the one
 * behind a TypeORM QueryRunner, `queryRunner.connection`/`databaseConnection`).
 */
export interface SqlClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
}

const statementNames = new Map<string, string>();

/**
 * The store's hot statements as named (prepared) statements: PostgreSQL parses and plans each one
 * once per connection and then reuses the plan (a generic one once it proves as good), instead of
 * planning the CTEs of an append or a log page on every call, which cost more CPU than running
 * them. The name is derived from the text, so one text always has one name.
 */
export function prepared(text: string, values: unknown[]): QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `flowline_es_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

/** One stream's part of a multi-stream append. */
export interface StreamAppend {
  streamId: string;
  events: NewEvent[];
  /** Default 'any'. */
  expectedRevision?: ExpectedRevision;
}

export interface PostgresEventStoreOptions {
  /** Used when no pool is given; defaults to DATABASE_URL. */
  connectionString?: string;
  /** A pool the caller owns (close() leaves it open). */
  pool?: Pool;
  /** Schema holding the tables (default `eventstore`). */
  schema?: string;
  /**
   * How often an idle subscription polls (default 500 ms, `EVENTSTORE_POLL_INTERVAL_MS`): a
   * fallback. Appends made in this process through any store object on the same database and
   * schema wake its subscriptions when they commit (the plain append at once; the `...Within`
   * appends when the caller's transaction ends); appends from other processes are seen on the
   * next poll, or at once when both sides use `notify`.
   */
  pollIntervalMs?: number;
  /** Least gap between two log reads a wake-up starts (default `EVENTSTORE_MIN_READ_GAP_MS`, else 10 ms). */
  minReadGapMs?: number;
  /**
   * NOTIFY `<schema>_events` in every append transaction and LISTEN for it in subscriptions
   * (default false). It cuts cross-process delivery latency, but PostgreSQL serialises the
   * commits of all notifying transactions in the cluster, which costs append throughput under
   * concurrency (docs/adr/0003). Correctness never depends on it.
   */
  notify?: boolean;
  /** Pool size when the store creates its own pool (default 10). */
  poolSize?: number;
}

/**
 * Appending inside a caller's transaction found that the transaction's id is older than the id
 * of the transaction that wrote the stream's last event. Committing would put this event before
 * its predecessor in the log order, so the append is refused; roll back and retry in a new
 * transaction. It can only happen when the transaction wrote something else before appending:
 * append first to avoid it.
 */
export class OutOfOrderAppend extends Error {
  constructor(
    readonly streamId: string,
    readonly transactionId: bigint,
    readonly lastEventTransactionId: bigint,
  ) {
    super(
      `append to ${streamId} refused: transaction ${transactionId} is older than transaction ${lastEventTransactionId} ` +
        'that wrote the stream head; retry in a new transaction (append before other writes)',
    );
    this.name = 'OutOfOrderAppend';
  }
}

const MAX_APPEND_ATTEMPTS = 10;

/**
 * The fallback poll (default 500 ms, `EVENTSTORE_POLL_INTERVAL_MS`): appends in this process wake
 * subscriptions at their commit, so the poll only covers appends from other processes (with
 * `notify` off) and missed wake-ups.
 */
export function defaultPollIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.EVENTSTORE_POLL_INTERVAL_MS);
  return Number.isFinite(n) && n > 0 ? n : 500;
}

/**
 * Least gap between two log reads of a subscription that a commit woke (default 10 ms,
 * `EVENTSTORE_MIN_READ_GAP_MS`, 0 = read at every wake-up): the commits of those milliseconds are
 * read in one page. The relay lingers 10 ms before publishing a partial batch anyway.
 */
export function defaultMinReadGapMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.EVENTSTORE_MIN_READ_GAP_MS;
  if (raw === undefined || raw.trim() === '') return 10;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 1_000) : 10;
}
const UNIQUE_VIOLATION = '23505';

type LogPageRow = EventRow & {
  horizon: string;
  attributed: boolean;
  waiting: boolean;
  foreign_ids: string[] | null;
  running: string[] | null;
  tail_tx: string | null;
  tail_pos: string | null;
};

interface EventRow {
  global_position: string;
  transaction_id_text: string;
  stream_id: string;
  stream_position: string;
  event_id: string;
  event_type: string;
  schema_version: number;
  data: unknown;
  metadata: RecordedEvent['metadata'];
}

// The xid8 goes out as text under another name: an output column named transaction_id would
// capture ORDER BY transaction_id and sort by its text (wrong order, and no index).
const EVENT_COLUMNS =
  'global_position, transaction_id::text AS transaction_id_text, stream_id, stream_position, event_id, event_type, schema_version, data, metadata';

function toRecorded(r: EventRow): RecordedEvent {
  return {
    eventId: r.event_id,
    type: r.event_type,
    schemaVersion: r.schema_version,
    streamId: r.stream_id,
    streamPosition: Number(r.stream_position),
    position: { commit: BigInt(r.transaction_id_text), prepare: BigInt(r.global_position) },
    data: r.data,
    metadata: r.metadata,
  };
}

/** xid8 has no negative values; START (-1/-1) and anything before the first real id map to 0. */
function cursorParams(after: LogPosition | undefined): [string, string] {
  if (!after || after.commit < 0n) return ['0', '-1'];
  return [after.commit.toString(), after.prepare.toString()];
}

function filterParams(filter: EventFilter | undefined): [string[] | null, string[] | null] {
  const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : null;
  const types = filter?.eventTypes?.length ? filter.eventTypes : null;
  return [prefixes, types];
}

/**
 * One page of the log: $1/$2 = exclusive cursor (xid8 text, bigint), $3 stream prefixes or null,
 * $4 event types or null, $5 limit or null, $6 transaction ids (xid8 text[]) already known to
 * belong to another database (see ForeignXids; may be empty), $7 the in-progress ids old enough
 * to be worth attributing (xid8 text[]), or null for all. Exported for the plan test.
 *
 * The horizon is the oldest transaction still running in the statement's snapshot, leaving out
 * those known or proven (pg_stat_activity) to belong to another database (they cannot write this
 * table); with none left, the snapshot's xmax. Every transaction of this database below the
 * horizon has ended before the snapshot, so the rows below it are final: a cursor can never pass
 * an event that commits later. (Plain pg_snapshot_xmin would be just as safe but let a long
 * transaction in any database of the cluster hold this log back.) A transaction the view cannot
 * attribute (a prepared transaction, or another role's session without pg_read_all_stats) counts
 * as ours: that only delays, never skips. The first column carries the horizon even on an empty page.
 *
 * Attribution (building the status of every backend of the cluster) is the expensive part, so it
 * runs only when it can change the page: `low`, the oldest in-progress id not known to be
 * foreign (or xmax), is a horizon just as safe, only possibly lower. When no row matching the
 * page lies at or above `low` after the cursor, both horizons give the same page and `low` is
 * returned (`attributed` false); only then is pg_stat_activity never read (its CTE is never
 * scanned). It is not read either when `low` is not in $7 (a transaction the caller has not seen
 * running for long; most end within milliseconds): then `low` is returned with `waiting` true (a
 * matching row lies above it) and a subscription looks again shortly, by when that transaction
 * has usually ended. Otherwise the ids it proves foreign come back in `foreign_ids` for the caller
 * to remember. `running` (every in-progress id of the snapshot) lets the caller forget those that
 * ended and age the others.
 *
 * `tail_tx`/`tail_pos`: the last row below the horizon after the cursor, whatever its stream or
 * type (null when none): how far a subscription may move its cursor past rows the filter left out.
 * Never the horizon itself: the horizon counts ids the server may hand out again after a crash
 * (ids whose WAL was never flushed, e.g. aborted transactions), while a committed row's id is
 * durable, so every id issued after recovery is above it (docs/adr/0003, "Crash recovery and
 * reused transaction ids").
 */
export function logPageSql(s: string): string {
  const matches = `($3::text[] IS NULL OR stream_id ^@ ANY($3::text[]))
              AND ($4::text[] IS NULL OR event_type = ANY($4::text[]))`;
  return `WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
       xip AS MATERIALIZED (
         SELECT x FROM pg_snapshot_xip((SELECT s FROM snap)) AS x WHERE x <> ALL($6::xid8[])),
       low AS MATERIALIZED (
         SELECT coalesce((SELECT min(x) FROM xip), pg_snapshot_xmax((SELECT s FROM snap))) AS xid),
       -- Rows at or above low and after the cursor: (transaction_id, global_position) after
       -- this pair (as scalar subqueries, so they bound the index scan instead of filtering a join).
       probe AS MATERIALIZED (
         SELECT greatest(low.xid, $1::xid8) AS tx, CASE WHEN low.xid > $1::xid8 THEN -1 ELSE $2::bigint END AS pos FROM low),
       -- The first such row in log order (ORDER BY ... LIMIT 1, not EXISTS): a plain EXISTS let the
       -- planner guess a third of the table matches and read it from the start (a sequential scan
       -- of the whole log on every caught-up poll, 9-39 ms at 60,000 rows); in log order the
       -- index is walked from the probe upwards.
       above AS MATERIALIZED (
         SELECT (SELECT 1 FROM ${s}.events
                  WHERE (transaction_id, global_position) > ((SELECT tx FROM probe), (SELECT pos FROM probe))
                    AND ${matches}
                  ORDER BY transaction_id, global_position
                  LIMIT 1) IS NOT NULL AS yes),
       need AS MATERIALIZED (
         SELECT above.yes AS waiting,
                above.yes AND ($7::xid8[] IS NULL OR (SELECT xid FROM low) = ANY($7::xid8[])) AS attribute
           FROM above),
       foreign_xids AS MATERIALIZED (
         SELECT x FROM xip
          WHERE x::xid IN (
            SELECT a.backend_xid FROM pg_stat_activity AS a
             WHERE a.backend_xid IS NOT NULL
               AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database()))),
       horizon AS MATERIALIZED (
         SELECT CASE WHEN need.attribute
                     THEN coalesce((SELECT min(x) FROM xip WHERE x NOT IN (SELECT x FROM foreign_xids)),
                                   pg_snapshot_xmax((SELECT s FROM snap)))
                     ELSE (SELECT xid FROM low) END AS xmin,
                need.attribute AS attributed,
                need.waiting,
                CASE WHEN need.attribute THEN (SELECT array_agg(x::text) FROM foreign_xids) END AS foreign_ids,
                (SELECT array_agg(x::text) FROM pg_snapshot_xip((SELECT s FROM snap)) AS x) AS running
           FROM need),
       tail AS MATERIALIZED (
         SELECT t.transaction_id, t.global_position FROM ${s}.events AS t
          WHERE t.transaction_id < (SELECT xmin FROM horizon)
            AND (t.transaction_id, t.global_position) > ($1::xid8, $2::bigint)
          ORDER BY t.transaction_id DESC, t.global_position DESC
          LIMIT 1)
       SELECT horizon.xmin::text AS horizon, horizon.attributed, horizon.waiting, horizon.foreign_ids, horizon.running,
              (SELECT transaction_id::text FROM tail) AS tail_tx, (SELECT global_position::text FROM tail) AS tail_pos, e.*
         FROM horizon
         LEFT JOIN LATERAL (
           SELECT ${EVENT_COLUMNS} FROM ${s}.events
            WHERE transaction_id < horizon.xmin
              AND (transaction_id, global_position) > ($1::xid8, $2::bigint)
              AND ${matches}
            ORDER BY events.transaction_id, events.global_position
            LIMIT $5) AS e ON true`;
}

/**
 * Transaction ids pg_stat_activity proved to belong to another database of the cluster, kept per
 * pool while they may still be in progress, so a long transaction elsewhere is attributed once
 * instead of on every poll. An id in progress belongs to one database for its whole life, and
 * xid8 does not wrap. But ids are not durable until written: after a crash (or a failover to a
 * replica) the server can hand out again ids it had given before, perhaps to a transaction of
 * THIS database, which the cache would then wrongly leave out (a skip). Every server restart or
 * switch means new connections, so any new connection of the pool forgets everything, a poll
 * reads the cache only once it holds its connection, and ids learned through a connection made
 * before another one appeared are dropped (epoch). Exported for its spec only.
 */
export class ForeignXids {
  private ids = new Set<string>();
  private epoch = 0;
  /** When each in-progress id was first seen by a poll through this pool (ms, caller's clock). */
  private firstSeen = new Map<string, number>();

  /** `pool`: a pg Pool; anything that emits 'connect' for each new connection. */
  constructor(pool: { on(event: 'connect', listener: () => void): unknown }) {
    pool.on('connect', () => this.forget());
  }

  forget(): void {
    this.epoch++;
    this.ids.clear();
    this.firstSeen.clear();
  }

  /** The ids to leave out, and those seen running for at least `ageMs` before `now` (worth attributing). */
  current(now: number, ageMs: number): { epoch: number; ids: string[]; old: string[] } {
    const old: string[] = [];
    for (const [id, at] of this.firstSeen) if (now - at >= ageMs) old.push(id);
    return { epoch: this.epoch, ids: [...this.ids], old };
  }

  /**
   * After a poll that read `current()` at `epoch`: keep the ids still in progress in its snapshot
   * (`running`; so the set never outgrows the cluster's connections), add the new ones, and note
   * when each running id was first seen.
   */
  learn(epoch: number, running: string[] | null, foreign: string[] | null, now: number): void {
    const still = new Set(running ?? []);
    for (const id of this.firstSeen.keys()) if (!still.has(id)) this.firstSeen.delete(id);
    for (const id of still) if (!this.firstSeen.has(id)) this.firstSeen.set(id, now);
    if (epoch !== this.epoch) return;
    for (const id of this.ids) if (!still.has(id)) this.ids.delete(id);
    for (const id of foreign ?? []) this.ids.add(id);
  }
}

/**
 * A subscription attributes an in-progress id only once it has been running this long: most
 * transactions of other databases end within a few milliseconds, and the subscription's quick
 * retry (2 ms) then finds the page without reading every backend's status.
 */
const ATTRIBUTE_AFTER_MS = 2;
/** How long readAll waits by default for this process's appends to pass the horizon (see readAll). */
const READ_ALL_SETTLE_MS = 2_000;

const foreignXidsByPool = new WeakMap<Pool, ForeignXids>();

function foreignXidsOf(pool: Pool): ForeignXids {
  let known = foreignXidsByPool.get(pool);
  if (!known) foreignXidsByPool.set(pool, (known = new ForeignXids(pool)));
  return known;
}

/** The batch as one jsonb parameter, unpacked in SQL with jsonb_array_elements ... WITH ORDINALITY. */
function serializeBatch(events: NewEvent[]): string {
  return JSON.stringify(events.map((e) => ({ id: e.eventId, type: e.type, v: e.schemaVersion ?? 1, data: e.data, metadata: e.metadata })));
}

/**
 * The log is ordered by transaction id, which belongs to the cluster, not to the data: restored
 * into another cluster (pg_dump/pg_restore, logical replication), the table keeps ids that the new
 * cluster has not reached yet, so every new event would sort below existing ones and below every
 * subscriber's checkpoint, and never be delivered. Refuse to start instead. Physical replicas and
 * failover keep the ids and pass.
 */
async function assertLogNotAhead(pool: Pool, s: string): Promise<void> {
  const r = await pool.query<{ newest: string | null; next: string }>(
    `SELECT (SELECT max(transaction_id)::text FROM ${s}.events) AS newest,
            pg_snapshot_xmax(pg_current_snapshot())::text AS next`,
  );
  const { newest, next } = r.rows[0];
  if (newest !== null && BigInt(newest) >= BigInt(next)) {
    throw new Error(
      `event store ${s}: stored transaction ids (up to ${newest}) are ahead of this cluster's (${next}); ` +
        'the log was restored from another cluster and new events would sort before old ones. ' +
        'See docs/adr/0003-postgres-event-log-ordering.md, "Restoring into another cluster".',
    );
  }
}

/**
 * A unique violation in a multi-stream INSERT, as the port's error. The detail names the key:
 * `Key (stream_id, stream_position)=(order-1, 3) already exists.` or `Key (event_id)=(...) ...`.
 */
function translateConflict(error: unknown, work: { streamId: string; expected: ExpectedRevision; events: NewEvent[] }[]): unknown {
  if (!isUniqueViolation(error)) return error;
  const detail = error.detail ?? '';
  if (error.constraint === 'events_event_id_key') {
    const id = /=\((.*)\) already exists/.exec(detail)?.[1] ?? '';
    const owner = work.find((a) => a.events.some((e) => e.eventId === id)) ?? work[0];
    return new DuplicateEventId(owner.streamId, id);
  }
  const m = /=\((.*), (\d+)\) already exists/.exec(detail);
  const stream = work.find((a) => a.streamId === m?.[1]) ?? work[0];
  return new WrongExpectedVersion(stream.streamId, stream.expected, m ? Number(m[2]) : 'no_stream');
}

/** Start of the error text of a deferred append whose stream is behind the expected revision. */
const BEHIND = 'flowline deferred append behind expected revision: ';

function isUniqueViolation(error: unknown): error is DatabaseError {
  return typeof error === 'object' && error !== null && (error as DatabaseError).code === UNIQUE_VIOLATION;
}

/**
 * One change signal per database and schema in this process, shared by every store object on it:
 * a relay built on one store object is woken by appends made through another (a handler's).
 */
const sharedSignals = new Map<string, { signal: ChangeSignal; committed: bigint }>();

function signalKey(pool: Pool, schema: string): string {
  const o = pool.options as PoolConfig;
  const where = o.connectionString ?? `${o.host ?? ''}:${o.port ?? ''}/${o.database ?? ''}`;
  return `${where}|${schema}`;
}

/** What a pg `Client` / `PoolClient` exposes for watching the end of its transaction. */
interface WatchableClient {
  connection?: { on(event: 'readyForQuery', fn: (msg: { status?: string }) => void): unknown; off(event: 'readyForQuery', fn: (msg: { status?: string }) => void): unknown };
  getTransactionStatus?(): string | null;
}

/** Clients whose open transaction already has a commit watcher (one per transaction). */
const watched = new WeakSet<object>();
const pendingTxs = new WeakMap<object, bigint>();
const pendingTx = (c: object): bigint => pendingTxs.get(c) ?? -1n;
const setPendingTx = (c: object, tx: bigint): void => void pendingTxs.set(c, tx);

/**
 * Per-stream locks a client's open transaction already holds, taken by a read with `lockStreams`:
 * an 'any' / 'stream_exists' append to such a stream in the same transaction needs no lock
 * statement of its own (one round trip less). Forgotten when the server reports the transaction
 * ended (ReadyForQuery back to idle), so a lock is never assumed past its transaction. A client
 * that cannot be watched (not a pg Client) is never marked: its appends lock as before.
 */
const heldStreamLocks = new WeakMap<object, Set<string>>();

function noteHeldStreamLocks(client: SqlClient, streamIds: readonly string[]): void {
  const c = client as SqlClient & WatchableClient;
  const connection = c.connection;
  if (streamIds.length === 0 || typeof c.getTransactionStatus !== 'function' || typeof connection?.on !== 'function' || typeof connection.off !== 'function') return;
  // 'I': no transaction open, an xact lock was gone at the end of the statement; 'E': it will roll back.
  if (c.getTransactionStatus() !== 'T') return;
  let held = heldStreamLocks.get(c);
  if (!held) {
    heldStreamLocks.set(c, (held = new Set()));
    const onReady = (msg: { status?: string }) => {
      if (msg.status !== 'I') return;
      connection.off('readyForQuery', onReady);
      heldStreamLocks.delete(c);
    };
    connection.on('readyForQuery', onReady);
  }
  for (const id of streamIds) held.add(id);
}

const holdsStreamLock = (client: SqlClient, streamId: string): boolean => heldStreamLocks.get(client)?.has(streamId) ?? false;

/**
 * deferredAppendSql's statement, `$1` the events (jsonb array of {s: stream, f: first position or
 * null for the head + 1, o: offset, id, type, v, data, metadata}); NOTIFY on `channel` when given.
 */
function deferredAppendBody(s: string, channel: string | null): string {
  // "Is the expected revision there?" is a scalar subquery (at most one row: the stream's unique
  // key), not EXISTS: PostgreSQL may run an EXISTS as a hashed subplan that reads the whole log
  // once per call, and a generic plan made while the log was nearly empty (a connection's first
  // append on a new system) chose that and kept it as the log grew (6 ms and 2,400 buffers a call
  // at 13k events). A scalar subquery is always one index probe per event.
  const head = `SELECT coalesce(max(h.stream_position), -1) FROM ${s}.events AS h WHERE h.stream_id = e.doc->>'s'`;
  const insert = `INSERT INTO ${s}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
         SELECT e.doc->>'s',
                CASE WHEN (e.doc->>'f') IS NULL OR (e.doc->>'f')::bigint = 0
                       OR coalesce((SELECT true FROM ${s}.events AS p WHERE p.stream_id = e.doc->>'s' AND p.stream_position = (e.doc->>'f')::bigint - 1), false)
                     THEN coalesce((e.doc->>'f')::bigint, (${head}) + 1) + (e.doc->>'o')::bigint
                     -- Behind the expected revision: no position would conflict, so fail the statement (a
                     -- text that is no bigint) rather than leave a hole; translate() reads the head from it.
                     ELSE (${sqlLiteral(BEHIND)} || (e.doc->>'s') || ' @ ' || (${head}))::bigint END,
                e.doc->>'id', e.doc->>'type', (e.doc->>'v')::int, e.doc->'data', e.doc->'metadata'
           FROM jsonb_array_elements($1) WITH ORDINALITY AS e(doc, ord)
          ORDER BY e.ord
         RETURNING stream_id, stream_position, global_position, transaction_id`;
  const notify = channel !== null ? `, (SELECT count(*) FROM (SELECT pg_notify(${sqlLiteral(channel, 'a notify channel')}, '') FROM (SELECT 1 FROM ins LIMIT 1) AS one) AS n) AS notified` : '';
  return `WITH ins AS (${insert})
       SELECT stream_id, max(stream_position)::text AS revision, max(global_position)::text AS last_position, max(transaction_id)::text AS tx${notify}
         FROM ins GROUP BY stream_id`;
}

/**
 * A statement for a caller's simple-protocol batch, prepared on the server once per connection
 * (PREPARE, then EXECUTE with literal arguments): PostgreSQL parses and plans it once per
 * connection, as `prepared` does for the extended protocol (the literal text planned on every call
 * cost more backend CPU than the round trip it saves). A PREPARE outlives a rollback, and a batch
 * that carried one but was not confirmed may or may not have run it: the next batch on that
 * connection prepares under a fresh name instead of guessing.
 */
export class BatchPrepared {
  private static next = 0;
  private readonly base: string;
  private readonly byClient = new WeakMap<object, { name: string; ready: boolean }>();

  /** `types`: the parameter types of the PREPARE, or null to let PostgreSQL infer them from the statement (as for an unnamed one). */
  constructor(
    private readonly types: string | null,
    private readonly body: string,
  ) {
    this.base = `flowline_esb_${createHash('sha1').update(`${types ?? ''}|${body}`).digest('hex').slice(0, 16)}`;
  }

  /**
   * The statements that run it with `args` (SQL literals) on `client`: PREPARE and EXECUTE, or
   * EXECUTE alone; `confirm()` once the batch carrying them succeeded. Only the name these
   * statements used is confirmed: statements built again before that (and maybe never sent) take
   * a fresh name, and confirming those would mark a statement that was never created.
   */
  statements(client: object, args: readonly string[]): { sql: string[]; confirm(): void } {
    const known = this.byClient.get(client);
    const execute = (name: string) => `EXECUTE ${name}(${args.join(', ')})`;
    if (known?.ready) return { sql: [execute(known.name)], confirm: () => undefined };
    const name = `${this.base}_${BatchPrepared.next++}`;
    this.byClient.set(client, { name, ready: false });
    return {
      sql: [`PREPARE ${name}${this.types === null ? '' : ` (${this.types})`} AS ${this.body}`, execute(name)],
      confirm: () => {
        const now = this.byClient.get(client);
        if (now?.name === name) now.ready = true;
      },
    };
  }
}

/**
 * Runs the rest of the current transaction (or of a simple-protocol batch's implicit one) on
 * generic plans: pgTransactions' `genericPlans`, inventory's unit of work (and, with more, the log
 * page and order-intake's commit tail: KEYED_GENERIC_PLANS_SQL).
 */
export const FORCE_GENERIC_PLANS_SQL = 'SET LOCAL plan_cache_mode = force_generic_plan';

/**
 * FORCE_GENERIC_PLANS_SQL for statements that each read or write a few rows by key (the log page,
 * order-intake's commit tail with the deferred append), in one statement whose settings end with
 * the transaction: generic plans, sequential scans off, JIT off.
 *
 * A generic plan is made once and kept for the connection's life. Made while the table was nearly
 * empty (a new system's first seconds), the deferred append's head lookups and the log page's scan
 * read the whole table (auto_explain: `Seq Scan on events`, planned at cost 0-8) and went on doing
 * so as the log grew. With sequential scans off while they are planned, these single-table keyed
 * reads probe their index whatever the table's size. Not for joins of a key list with a table
 * (`UPDATE t ... FROM unnest(...)`): planned on a small table, they then read the whole table
 * through an index instead, worse than the scan (review, 2026-12-07), so pgTransactions and the
 * unit of work keep FORCE_GENERIC_PLANS_SQL; appendToStreamsWithin takes these settings for its own
 * statement only, inside the caller's transaction (KEYED_PLANS_SAVE / KEYED_PLANS_RESTORE). JIT is off because the 10^10 price of a scan that
 * cannot be avoided crosses `jit_above_cost`: a statement compiled itself for 250-400 ms a call.
 */
export const KEYED_GENERIC_PLANS_SQL =
  "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)";

/** `ARRAY[...]::text[]` of SQL literals, or NULL. */
function textArrayLiteral(values: readonly string[] | null, what: string): string {
  if (values === null) return 'NULL';
  return values.length === 0 ? `'{}'::text[]` : `ARRAY[${values.map((v) => sqlLiteral(v, what)).join(', ')}]::text[]`;
}

/** `'{...}'::xid8[]` of transaction ids (decimal text, checked). */
function xidArrayLiteral(ids: readonly string[]): string {
  for (const id of ids) if (!/^\d+$/.test(id)) throw new RangeError(`not a transaction id: ${JSON.stringify(id)}`);
  return `'{${ids.join(',')}}'::xid8[]`;
}

/**
 * appendManyWithin's statement: `$1` stream ids, `$2` the exact revision expected (-1 for
 * 'no_stream', NULL for none), `$3` whether the stream must exist, `$4` every event id, `$5` the
 * events (jsonb array of {i: stream index from 1, k: offset from 1, id, type, v, data, metadata}),
 * `$6` the NOTIFY channel and `$7` whether to notify.
 */
function appendManyBody(s: string): string {
  return `WITH streams AS MATERIALIZED (
             SELECT s.i, s.stream_id, s.exact, s.must_exist, coalesce(h.stream_position, -1) AS revision, h.transaction_id AS head_tx
               FROM unnest($1::text[], $2::bigint[], $3::boolean[]) WITH ORDINALITY AS s(stream_id, exact, must_exist, i)
               LEFT JOIN LATERAL (
                 SELECT stream_position, transaction_id FROM ${s}.events
                  WHERE stream_id = s.stream_id ORDER BY stream_position DESC LIMIT 1) AS h ON true
           ), verdict AS MATERIALIZED (
             SELECT pg_current_xact_id() AS my_tx,
                    EXISTS (SELECT 1 FROM ${s}.events WHERE event_id = ANY($4::text[])) AS known
           ), go AS MATERIALIZED (
             SELECT NOT v.known AND NOT EXISTS (
                      SELECT 1 FROM streams s
                       WHERE (s.exact IS NOT NULL AND s.exact <> s.revision)
                          OR (s.must_exist AND s.revision < 0)
                          OR s.head_tx > v.my_tx) AS ok
               FROM verdict v
           ), ins AS (
             INSERT INTO ${s}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
             SELECT s.stream_id, s.revision + (e.doc->>'k')::bigint, e.doc->>'id', e.doc->>'type', (e.doc->>'v')::int, e.doc->'data', e.doc->'metadata'
               FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(doc, ord)
               JOIN streams s ON s.i = (e.doc->>'i')::bigint
              WHERE (SELECT ok FROM go)
              ORDER BY e.ord
             RETURNING stream_id, global_position
           ), last AS (
             SELECT stream_id, max(global_position) AS position FROM ins GROUP BY stream_id
           )
           SELECT s.revision::text AS revision, s.head_tx::text AS head_tx, v.my_tx::text AS my_tx, v.known,
                  l.position::text AS last_position,
                  (SELECT count(*) FROM (SELECT pg_notify($6, '') FROM last WHERE $7::boolean LIMIT 1) AS n) AS notified
             FROM streams s CROSS JOIN verdict v LEFT JOIN last AS l ON l.stream_id = s.stream_id
            ORDER BY s.i`;
}

/**
 * KEYED_GENERIC_PLANS_SQL's settings for the statements after it, the transaction's own kept aside
 * (in a placeholder setting local to the transaction) for KEYED_PLANS_RESTORE: a keyed statement
 * inside a caller's transaction is planned without scans, and the caller's statements after it
 * (key-list joins among them, see KEYED_GENERIC_PLANS_SQL) plan as they did before.
 */
const KEYED_PLANS_SAVE = `SELECT saved.v, set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)
  FROM (SELECT set_config('flowline.keyed_plans_saved', concat_ws(' ', current_setting('plan_cache_mode'), current_setting('enable_seqscan'), current_setting('jit')), true) AS v) AS saved`;
const KEYED_PLANS_RESTORE = `SELECT set_config('plan_cache_mode', split_part(v, ' ', 1), true), set_config('enable_seqscan', split_part(v, ' ', 2), true), set_config('jit', split_part(v, ' ', 3), true)
  FROM current_setting('flowline.keyed_plans_saved') AS v`;

/** An expected revision as a bigint literal (checked: it goes into SQL text). */
function revisionLiteral(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a stream revision: ${n}`);
  return String(n);
}

/** The per-stream advisory locks of `$n` (text[] of stream ids), in a fixed order so two transactions cannot deadlock. */
const streamLocksSql = (param: string): string =>
  `SELECT pg_advisory_xact_lock(hashtextextended('flowline.eventstore.stream:' || k, 0))
             FROM (SELECT k FROM unnest(${param}::text[]) AS k ORDER BY k) AS sorted`;

/**
 * The event store on PostgreSQL (`pg`). One `events` table per schema; the log order is
 * (transaction_id, global_position) and reads of the log stop below the oldest running
 * transaction, so a late-committing transaction is never skipped (docs/adr/0003).
 */
export class PostgresEventStore implements EventStore {
  /** Shared by every store object on this database and schema in the process (see sharedSignals). */
  private readonly shared: { signal: ChangeSignal; committed: bigint };
  private readonly changed: ChangeSignal;
  private readonly subscriptions = new Set<Subscription>();
  private listener: Client | undefined;
  private listenerConnecting = false;
  private listenerRetryAt = 0;
  private closed = false;
  /** The quoted schema name, ready to prefix table names. */
  private readonly s: string;
  private readonly channel: string;
  private readonly notifies: boolean;
  private readonly foreignXids: ForeignXids;
  /** The statements of streamReadSql, deferredAppendSql and the log page (see BatchPrepared). */
  private readonly batch: { locks: BatchPrepared; read: BatchPrepared; append: BatchPrepared; appendMany: BatchPrepared; page: BatchPrepared };

  private constructor(
    readonly pool: Pool,
    private readonly ownsPool: boolean,
    readonly schema: string,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.s = quoteSchema(schema);
    this.channel = notifyChannel(schema);
    this.notifies = options.notify === true;
    this.foreignXids = foreignXidsOf(pool);
    const key = signalKey(pool, schema);
    let shared = sharedSignals.get(key);
    if (!shared) sharedSignals.set(key, (shared = { signal: new ChangeSignal(), committed: -1n }));
    this.shared = shared;
    this.changed = shared.signal;
    this.batch = {
      locks: new BatchPrepared('text[]', streamLocksSql('$1')),
      read: new BatchPrepared('text', `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 ORDER BY stream_position`),
      append: new BatchPrepared('jsonb', deferredAppendBody(this.s, this.notifies ? this.channel : null)),
      appendMany: new BatchPrepared('text[], bigint[], boolean[], text[], jsonb, text, boolean', appendManyBody(this.s)),
      page: new BatchPrepared('xid8, bigint, text[], text[], bigint, xid8[], xid8[]', logPageSql(this.s)),
    };
  }

  /** Connects, runs the migrations and returns a ready store. */
  static async create(opts: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const schema = opts.schema ?? DEFAULT_SCHEMA;
    quoteSchema(schema);
    let pool = opts.pool;
    const ownsPool = !pool;
    if (!pool) {
      const connectionString = opts.connectionString ?? process.env.DATABASE_URL;
      if (!connectionString) throw new Error('PostgresEventStore needs a pool, a connectionString or DATABASE_URL');
      pool = new Pool({ connectionString, max: opts.poolSize ?? 10 });
    }
    // A client losing its connection (idle or checked out) must not crash the process; the next query reconnects.
    guardPool(pool);
    try {
      await migrate(pool, schema);
      await assertLogNotAhead(pool, quoteSchema(schema));
    } catch (error) {
      if (ownsPool) await pool.end();
      throw error;
    }
    return new PostgresEventStore(pool, ownsPool, schema, opts);
  }

  appendToStream(streamId: string, events: NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    return instrumentAppend('postgres', streamId, events, async (toStore) => {
      this.assertOpen();
      assertAppendable(streamId, toStore);
      const expected = options?.expectedRevision ?? 'any';
      try {
        const result = await this.appendInOneStatement(streamId, toStore, expected);
        if (result) {
          this.committed(result.position.commit); // subscriptions in this process need not wait for NOTIFY or a poll
          return result;
        }
      } catch (error) {
        // A concurrent append took the revision or an id first: the transactional path below
        // re-evaluates after it, and queues 'any'/'stream_exists' appends behind a stream lock.
        if (!isUniqueViolation(error)) throw error;
      }
      const client = await this.pool.connect();
      try {
        const result = await this.appendWithRetry(client, streamId, toStore, expected, {
          begin: 'BEGIN',
          commit: 'COMMIT',
          rollback: 'ROLLBACK',
        });
        this.committed(result.position.commit);
        return result;
      } finally {
        client.release();
      }
    });
  }

  /**
   * The common case in one round trip: a single autocommit statement reads the stream head,
   * checks the expected revision and that no id is stored yet, and inserts only if both hold.
   * Returns undefined when it could not decide (the transactional path then does). A lost race
   * surfaces as a unique violation. The transaction id is taken inside the statement, after
   * its snapshot, so it is newer than the visible head's: no OutOfOrderAppend check needed.
   */
  private async appendInOneStatement(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult | undefined> {
    const exact = expected === 'no_stream' ? -1 : typeof expected === 'number' ? expected : null;
    const result = await this.pool.query<{ revision: string; known: boolean; last_position: string | null; tx: string | null }>(
      prepared(
        `WITH state AS (
           SELECT coalesce((SELECT stream_position FROM ${this.s}.events WHERE stream_id = $1
                             ORDER BY stream_position DESC LIMIT 1), -1) AS revision,
                  EXISTS (SELECT 1 FROM ${this.s}.events WHERE event_id = ANY($2::text[])) AS known
         ), ins AS (
           INSERT INTO ${this.s}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
           SELECT $1, state.revision + e.ord, e.doc->>'id', e.doc->>'type', (e.doc->>'v')::int, e.doc->'data', e.doc->'metadata'
             FROM state, jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(doc, ord)
            WHERE NOT state.known
              AND ($4::bigint IS NULL OR state.revision = $4::bigint)
              AND (NOT $5::boolean OR state.revision >= 0)
            ORDER BY e.ord
           RETURNING global_position, transaction_id
         )
         SELECT state.revision::text AS revision, state.known,
                (SELECT max(global_position)::text FROM ins) AS last_position,
                (SELECT max(transaction_id)::text FROM ins) AS tx,
                (SELECT count(*) FROM (SELECT pg_notify($6, '') FROM ins WHERE $7::boolean LIMIT 1) AS n) AS notified
           FROM state`,
        [streamId, events.map((e) => e.eventId), serializeBatch(events), exact, expected === 'stream_exists', this.channel, this.notifies],
      ),
    );
    const row = result.rows[0];
    if (row.known) return this.retriedAppend(this.pool, streamId, events.map((e) => e.eventId));
    const current = Number(row.revision);
    if (row.last_position !== null && row.tx !== null) {
      return { nextExpectedRevision: current + events.length, position: { commit: BigInt(row.tx), prepare: BigInt(row.last_position) } };
    }
    checkExpectedRevision(streamId, expected, current); // throws WrongExpectedVersion
    return undefined;
  }

  /**
   * Appends inside a transaction the caller has opened on `client`, so a service can write its
   * own rows (read models, outbox, inbox) and the events atomically; the events become visible
   * when the caller commits. Same checks and results as appendToStream. Runs under a savepoint:
   * a lost race is re-evaluated without aborting the caller's transaction.
   *
   * Append before the transaction's other writes: the transaction id is taken at its first
   * write, and the log is ordered by it (see OutOfOrderAppend).
   */
  appendToStreamWithin(
    client: SqlClient,
    streamId: string,
    events: NewEvent[],
    options?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> {
    return instrumentAppend('postgres', streamId, events, async (toStore) => {
      this.assertOpen();
      assertAppendable(streamId, toStore);
      const result = await this.appendWithRetry(client, streamId, toStore, options?.expectedRevision ?? 'any', {
        begin: 'SAVEPOINT flowline_eventstore_append',
        commit: 'RELEASE SAVEPOINT flowline_eventstore_append',
        rollback: 'ROLLBACK TO SAVEPOINT flowline_eventstore_append',
      });
      this.wakeOnCommit(client, result.position.commit);
      return result;
    });
  }

  /**
   * Appends to several streams inside the caller's transaction in one statement (one round trip,
   * two when an append expects 'any' or 'stream_exists'), with the checks of
   * appendToStreamWithin for every stream. Returns one result per append, in order.
   *
   * Unlike appendToStreamWithin it takes no savepoint: a concurrent transaction that wins a
   * revision or an event id surfaces as WrongExpectedVersion (actual = the revision it took) or
   * DuplicateEventId and leaves the caller's transaction aborted; roll back and retry. A batch
   * holding an already stored event id is handed to appendToStreamWithin stream by stream, so
   * a retried batch still gets its idempotent results.
   */
  appendToStreamsWithin(client: SqlClient, appends: StreamAppend[]): Promise<AppendResult[]> {
    const all = appends.flatMap((a) => a.events);
    const first = appends[0]?.streamId ?? '';
    return instrumentAppend(
      'postgres',
      first,
      all,
      async (withTrace) => {
        this.assertOpen();
        // instrumentAppend filled traceparents on the flat list; put them back per stream.
        let k = 0;
        const work = appends.map((a) => ({ ...a, events: a.events.map(() => withTrace[k++]), expected: a.expectedRevision ?? 'any' }));
        const streamIds = work.map((a) => a.streamId);
        if (new Set(streamIds).size !== streamIds.length) throw new RangeError('appendToStreamsWithin: a stream appears twice');
        for (const a of work) assertAppendable(a.streamId, a.events);
        assertAppendable(first, withTrace); // one event id twice across streams
        const results = await this.appendManyWithin(client, work);
        this.wakeOnCommit(client, results.reduce((m, r) => (r.position.commit > m ? r.position.commit : m), -1n));
        return results;
      },
      { 'eventstore.stream_count': appends.length },
    );
  }

  /**
   * A multi-stream append as one plain SQL statement (values inlined as literals) that the caller
   * sends itself, later, inside the transaction open on `client`: order-intake sends a command's
   * append with its COMMIT, so it costs no round trip of its own. Nothing is checked before; the
   * table's unique keys check it when it runs. That holds for these expectations only:
   * - 'no_stream': positions from 0, so a stream that exists fails the statement;
   * - a revision n the caller read in this transaction: positions from n + 1, so a stream that
   *   moved on fails it (streams have no holes, and an event once stored stays);
   * - 'any' on a stream whose lock this transaction holds (readStreamWithin's lockStreams or
   *   streamReadSql, taken by an earlier statement): the head is read by the statement itself,
   *   after the lock, so no other append can take the position.
   * Anything else (an 'any' without the lock, 'stream_exists') returns undefined: append now instead.
   * An event id stored already fails it too (DuplicateEventId, not the idempotent result of
   * appendToStreamsWithin: only for callers whose event ids are new). A stream another transaction
   * is writing makes it wait for that one, then fail. The log order holds: the transaction's id is
   * taken by this statement, or earlier, while every head it builds on committed before the
   * statement's snapshot; a transaction that wrote before and then appends to a stream whose head
   * another transaction wrote after that is the one case not caught (see OutOfOrderAppend): use it
   * as the transaction's first write to the event store, or on new streams.
   *
   * `translate` turns a failure of the statement (and only a unique violation on this table) into
   * WrongExpectedVersion / DuplicateEventId; anything else it returns as is. `sql` is `statements`
   * statements (a PREPARE first on a connection that does not have it yet, see BatchPrepared), the
   * last one the append. `revisions`: each stream's revision after the append where known before it
   * runs (undefined for 'any'); `committed(result)`, called with the last statement's result after
   * the caller's COMMIT, returns the
   * append results and wakes this process's subscriptions. The events carry the active trace
   * context as in the other appends; there is no eventstore.append span or latency sample of its
   * own (its time is part of the caller's round trip).
   */
  deferredAppendSql(
    client: SqlClient,
    appends: StreamAppend[],
  ): { sql: string; statements: number; revisions: (number | undefined)[]; translate(error: unknown): unknown; committed(result: QueryResult): AppendResult[] } | undefined {
    this.assertOpen();
    const streamIds = appends.map((a) => a.streamId);
    if (appends.length === 0) throw new RangeError('deferredAppendSql: no stream');
    if (new Set(streamIds).size !== streamIds.length) throw new RangeError('deferredAppendSql: a stream appears twice');
    const firsts: (number | null)[] = [];
    for (const a of appends) {
      const expected = a.expectedRevision ?? 'any';
      if (expected === 'no_stream') firsts.push(0);
      else if (typeof expected === 'number') firsts.push(expected + 1);
      else if (expected === 'any' && holdsStreamLock(client, a.streamId)) firsts.push(null);
      else return undefined;
    }
    const all = withTraceparent(appends.flatMap((a) => a.events));
    let k = 0;
    const work = appends.map((a) => ({ streamId: a.streamId, expected: a.expectedRevision ?? ('any' as const), events: a.events.map(() => all[k++]) }));
    for (const a of work) assertAppendable(a.streamId, a.events);
    assertAppendable(streamIds[0], all); // one event id twice across streams
    const docs = work.flatMap((a, i) =>
      a.events.map((e, offset) => ({ s: a.streamId, f: firsts[i], o: offset, id: e.eventId, type: e.type, v: e.schemaVersion ?? 1, data: e.data, metadata: e.metadata })),
    );
    const prepared = this.batch.append.statements(client, [sqlLiteral(JSON.stringify(docs))]);
    const statements = prepared.sql;
    const table = this.schema;
    return {
      sql: statements.join(';\n'),
      statements: statements.length,
      revisions: work.map((a, i) => (firsts[i] === null ? undefined : (firsts[i] as number) + a.events.length - 1)),
      translate: (error) => {
        const behind = new RegExp(`"${BEHIND}(.*) @ (-?\\d+)"`).exec((error as Error | undefined)?.message ?? '');
        if (behind) {
          const stream = work.find((a) => a.streamId === behind[1]) ?? work[0];
          const actual = Number(behind[2]);
          return new WrongExpectedVersion(stream.streamId, stream.expected, actual < 0 ? 'no_stream' : actual);
        }
        if (!isUniqueViolation(error) || error.table !== 'events' || error.schema !== table) return error;
        return translateConflict(error, work);
      },
      committed: (result) => {
        prepared.confirm();
        const rows = result.rows as { stream_id: string; revision: string; last_position: string; tx: string }[];
        const results = work.map((a) => {
          const row = rows.find((r) => r.stream_id === a.streamId);
          if (!row) throw new Error(`deferred append: no row for ${a.streamId}`);
          return { nextExpectedRevision: Number(row.revision), position: { commit: BigInt(row.tx), prepare: BigInt(row.last_position) } };
        });
        this.committed(results.reduce((m, r) => (r.position.commit > m ? r.position.commit : m), -1n));
        return results;
      },
    };
  }

  /**
   * The multi-stream append in one statement (plus the lock statement for 'any'/'stream_exists'):
   * it reads every stream head, checks every expected revision, the log order and that no event
   * id is stored yet, and inserts only if all hold; otherwise it inserts nothing and the heads it
   * returns say why. A batch holding a stored id goes stream by stream (idempotent results).
   */
  private async appendManyWithin(
    client: SqlClient,
    work: { streamId: string; events: NewEvent[]; expected: ExpectedRevision }[],
  ): Promise<AppendResult[]> {
    // Locks the transaction took with an earlier read (readStreamWithin's lockStreams) are held already.
    const locked = work.filter((a) => (a.expected === 'any' || a.expected === 'stream_exists') && !holdsStreamLock(client, a.streamId)).map((a) => a.streamId);
    // Same per-stream locks as appendWithRetry, taken in a fixed order so two batches cannot deadlock.
    const docs: unknown[] = [];
    const ids: string[] = [];
    work.forEach((a, i) =>
      a.events.forEach((e, k) => {
        ids.push(e.eventId);
        docs.push({ i: i + 1, k: k + 1, id: e.eventId, type: e.type, v: e.schemaVersion ?? 1, data: e.data, metadata: e.metadata });
      }),
    );
    // One round trip: the locks (a statement of their own, so the heads are read after they are
    // granted: each statement of a simple-query batch takes its own snapshot), then the append,
    // planned with KEYED_GENERIC_PLANS_SQL's settings and the transaction's own restored after it
    // (KEYED_PLANS_SAVE / KEYED_PLANS_RESTORE). The append's head lookups and event-id check are
    // single-table keyed reads; on a generic plan made while the log was nearly empty (a new
    // system's first minutes) they read the whole log on every call, and the plan is kept for the
    // connection's life (inventory's unit of work: 559 buffers an append against 69).
    const lockStatements = locked.length > 0 ? this.batch.locks.statements(client, [textArrayLiteral(locked, 'a stream id')]) : undefined;
    const append = this.batch.appendMany.statements(client, [
      textArrayLiteral(work.map((a) => a.streamId), 'a stream id'),
      `ARRAY[${work.map((a) => (a.expected === 'no_stream' ? '-1' : typeof a.expected === 'number' ? revisionLiteral(a.expected) : 'NULL')).join(', ')}]::bigint[]`,
      `ARRAY[${work.map((a) => String(a.expected === 'stream_exists')).join(', ')}]::boolean[]`,
      textArrayLiteral(ids, 'an event id'),
      escapeSqlLiteral(JSON.stringify(docs)),
      sqlLiteral(this.channel),
      String(this.notifies),
    ]);
    const statements = [KEYED_PLANS_SAVE, ...(lockStatements?.sql ?? []), ...append.sql, KEYED_PLANS_RESTORE];
    let result: QueryResult<{ revision: string; head_tx: string | null; my_tx: string; known: boolean; last_position: string | null }>;
    try {
      const results = (await client.query(statements.join(';\n'))) as unknown as QueryResult[];
      result = results[results.length - 2] as typeof result;
    } catch (error) {
      throw translateConflict(error, work);
    }
    lockStatements?.confirm();
    append.confirm();
    const rows = result.rows;
    if (rows.length !== work.length) throw new Error(`multi-stream append: ${rows.length} head rows for ${work.length} streams`);
    if (rows[0].known) {
      const results: AppendResult[] = [];
      for (const a of work) {
        results.push(
          await this.appendWithRetry(client, a.streamId, a.events, a.expected, {
            begin: 'SAVEPOINT flowline_eventstore_append',
            commit: 'RELEASE SAVEPOINT flowline_eventstore_append',
            rollback: 'ROLLBACK TO SAVEPOINT flowline_eventstore_append',
          }),
        );
      }
      return results;
    }
    if (rows.some((r) => r.last_position === null)) {
      // Nothing was inserted: report the first stream that failed, as the single-stream path would.
      work.forEach((a, i) => {
        const r = rows[i];
        checkExpectedRevision(a.streamId, a.expected, Number(r.revision));
        if (r.head_tx !== null && BigInt(r.head_tx) > BigInt(r.my_tx)) throw new OutOfOrderAppend(a.streamId, BigInt(r.my_tx), BigInt(r.head_tx));
      });
      throw new Error('multi-stream append inserted nothing although every check passed');
    }
    // Every row carries this transaction's id, the one pg_current_xact_id() returned.
    return work.map((a, i) => ({
      nextExpectedRevision: Number(rows[i].revision) + a.events.length,
      position: { commit: BigInt(rows[i].my_tx), prepare: BigInt(rows[i].last_position as string) },
    }));
  }

  /**
   * Runs the append; when a concurrent transaction took the same stream revision or event id
   * first (unique violation, raised once that transaction committed), starts over: the second
   * look sees the winner and yields WrongExpectedVersion, the idempotent result, or (for
   * 'any' / 'stream_exists') a successful append after it.
   */
  private async appendWithRetry(
    client: SqlClient,
    streamId: string,
    events: NewEvent[],
    expected: ExpectedRevision,
    tx: { begin: string; commit: string; rollback: string },
  ): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      await client.query(tx.begin);
      try {
        const result = await this.tryAppend(client, streamId, events, expected);
        if (this.notifies) await client.query('SELECT pg_notify($1, $2)', [this.channel, '']);
        await client.query(tx.commit);
        return result;
      } catch (error) {
        await client.query(tx.rollback).catch(() => undefined);
        if (isUniqueViolation(error) && attempt < MAX_APPEND_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  private async tryAppend(client: SqlClient, streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const ids = events.map((e) => e.eventId);
    if (expected === 'any' || expected === 'stream_exists') {
      // These appends must not fail because another one won the race for the next revision:
      // queue them per stream (the lock is released at the end of the transaction). A separate
      // statement, so the head query below takes its snapshot after the lock is granted.
      await client.query(prepared('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`flowline.eventstore.stream:${streamId}`]));
    }
    // One round trip: the stream head, whether any id is already stored, and this transaction's
    // id (taken now if not yet: a committed head was written by an older transaction, see below).
    const head = await client.query<{ revision: string | null; head_tx: string | null; my_tx: string; known_ids: number }>(
      prepared(
        `SELECT h.stream_position AS revision, h.transaction_id::text AS head_tx, pg_current_xact_id()::text AS my_tx,
                (SELECT count(*)::int FROM ${this.s}.events WHERE event_id = ANY($2::text[])) AS known_ids
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT stream_position, transaction_id FROM ${this.s}.events
              WHERE stream_id = $1 ORDER BY stream_position DESC LIMIT 1) AS h ON true`,
        [streamId, ids],
      ),
    );
    const row = head.rows[0];
    if (row.known_ids > 0) return this.retriedAppend(client, streamId, ids);

    const current = row.revision === null ? -1 : Number(row.revision);
    checkExpectedRevision(streamId, expected, current);
    if (row.head_tx !== null && BigInt(row.head_tx) > BigInt(row.my_tx)) {
      // Only possible in appendToStreamWithin after earlier writes: our id predates the head's.
      throw new OutOfOrderAppend(streamId, BigInt(row.my_tx), BigInt(row.head_tx));
    }

    const batch = serializeBatch(events);
    const inserted = await client.query<{ global_position: string; transaction_id: string; stream_position: string }>(
      prepared(
        `INSERT INTO ${this.s}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
         SELECT $1, $2::bigint + e.ord - 1, e.doc->>'id', e.doc->>'type', (e.doc->>'v')::int, e.doc->'data', e.doc->'metadata'
           FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(doc, ord)
          ORDER BY e.ord
         RETURNING global_position, transaction_id::text AS transaction_id, stream_position`,
        [streamId, current + 1, batch],
      ),
    );
    let last = inserted.rows[0];
    for (const r of inserted.rows) if (BigInt(r.global_position) > BigInt(last.global_position)) last = r;
    return {
      nextExpectedRevision: current + events.length,
      position: { commit: BigInt(last.transaction_id), prepare: BigInt(last.global_position) },
    };
  }

  /** Some ids are stored already: the same result if this is a retry of that exact append, else DuplicateEventId. */
  private async retriedAppend(client: SqlClient, streamId: string, ids: string[]): Promise<AppendResult> {
    const found = await client.query<{ event_id: string; stream_id: string; stream_position: string; global_position: string; transaction_id: string }>(
      `SELECT event_id, stream_id, stream_position, global_position, transaction_id::text AS transaction_id
         FROM ${this.s}.events WHERE event_id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map(found.rows.map((r) => [r.event_id, r]));
    const rows = ids.map((id) => byId.get(id));
    const first = rows[0];
    const isRetry =
      first !== undefined &&
      rows.every((r, i) => r !== undefined && r.stream_id === streamId && Number(r.stream_position) === Number(first.stream_position) + i);
    const last = rows[rows.length - 1];
    if (!isRetry || !last) throw new DuplicateEventId(streamId, ids.find((id) => byId.has(id)) ?? ids[0]);
    return {
      nextExpectedRevision: Number(last.stream_position),
      position: { commit: BigInt(last.transaction_id), prepare: BigInt(last.global_position) },
    };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return this.readStreamWithin(this.pool, streamId, options);
  }

  /**
   * readStream on the caller's connection (inside its transaction): a command that loads, decides
   * and appends in one transaction holds one pooled connection, not two.
   *
   * `lockStreams`: other streams whose per-stream locks (those of an 'any' / 'stream_exists'
   * append) the same statement takes, held to the end of the transaction; an append to them in
   * this transaction then sends no lock statement. Not inside a savepoint that may be rolled back
   * (that releases the locks while the store still counts them held: a racing 'any' append could
   * then fail with WrongExpectedVersion instead of waiting; the unique index still keeps the stream whole).
   */
  async readStreamWithin(client: SqlClient, streamId: string, options: ReadStreamOptions & { lockStreams?: readonly string[] } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    const read = `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
          WHERE stream_id = $1 AND stream_position ${backwards ? '<=' : '>='} $2
          ORDER BY stream_position ${backwards ? 'DESC' : 'ASC'}
          LIMIT $3`;
    const locks = options.lockStreams ?? [];
    if (locks.length === 0) return (await client.query<EventRow>(prepared(read, [streamId, from, options.maxCount ?? null]))).rows.map(toRecorded);
    // The locks first (the aggregate ends before the lateral read runs), in the same statement:
    // no round trip of their own. The read's snapshot may predate a lock's grant; that is fine
    // for `streamId` (its appends check an exact revision) as long as it is not locked itself.
    if (locks.includes(streamId)) throw new RangeError('readStreamWithin: lockStreams must not name the stream read');
    const result = await client.query<EventRow & { locks: string }>(
      prepared(
        `SELECT e.* FROM (SELECT count(*) AS locks FROM (${streamLocksSql('$4')}) AS l) AS held
           LEFT JOIN LATERAL (${read}) AS e ON true`,
        [streamId, from, options.maxCount ?? null, locks],
      ),
    );
    noteHeldStreamLocks(client, locks);
    return result.rows.filter((r) => r.event_id !== null).map(toRecorded);
  }

  /**
   * readStreamWithin (the whole stream, forwards) as plain SQL for a caller that sends it in a
   * simple-protocol batch of its own, so the read costs no round trip of its own (order-intake
   * reads the order in the round trip that takes its Idempotency-Key lock), on `client`. `sql`
   * holds `statements` statements, values inlined as literals: first the locks of `lockStreams`,
   * if any, then the read, so the read's snapshot is taken after they are granted (each prepared
   * once per connection: a PREPARE goes before its first EXECUTE, see BatchPrepared). `read` turns
   * the batch's results of those statements into the events, and notes the locks as held by the
   * transaction open on `client` (an append there takes them again otherwise).
   */
  streamReadSql(
    client: SqlClient,
    streamId: string,
    options: { lockStreams?: readonly string[] } = {},
  ): { sql: string; statements: number; read(results: readonly QueryResult[]): RecordedEvent[] } {
    this.assertOpen();
    const locks = options.lockStreams ?? [];
    const lockPart = locks.length > 0 ? this.batch.locks.statements(client, [textArrayLiteral(locks, 'a stream id')]) : undefined;
    const readPart = this.batch.read.statements(client, [sqlLiteral(streamId, 'a stream id')]);
    const parts = [...(lockPart?.sql ?? []), ...readPart.sql];
    return {
      sql: parts.join(';\n'),
      statements: parts.length,
      read: (results) => {
        if (results.length !== parts.length) throw new RangeError(`streamReadSql: ${results.length} results for ${parts.length} statements`);
        lockPart?.confirm();
        readPart.confirm();
        noteHeldStreamLocks(client, locks);
        return (results[results.length - 1].rows as EventRow[]).map(toRecorded);
      },
    };
  }

  /**
   * Reads the final part of the log (below the horizon, see readLog). When an event this process
   * had committed before the call is not below it yet (an older transaction of this database still
   * runs, or ended between the snapshot and the pg_stat_activity read that could prove it foreign),
   * it reads again shortly, for up to `ownWritesTimeoutMs` (default READ_ALL_SETTLE_MS): a caller
   * reads its own appends, and a transaction held open longer than that delays them rather than
   * being read past. Commits made after the call started never extend the wait.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const ownCommit = this.shared.committed;
    const wait = options.ownWritesTimeoutMs;
    const deadline = performance.now() + (wait !== undefined && Number.isFinite(wait) ? Math.max(0, wait) : READ_ALL_SETTLE_MS);
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      const page = await this.readLog(options.after, options.maxCount ?? null, options.filter);
      const cut = options.maxCount !== undefined && page.events.length >= options.maxCount;
      const ownPending = page.attributed === true && page.horizon !== undefined && page.horizon <= ownCommit;
      if (cut || !ownPending || performance.now() + delay > deadline) return page.events;
      await new Promise((resolve) => setTimeout(resolve, delay));
      this.assertOpen();
    }
  }

  /**
   * One page of the log after `after`, in (transaction_id, global_position) order, limited to
   * transactions older than the horizon (see logPageSql): every one of them has ended, so no row
   * can still appear below it and a cursor never passes an event that commits later.
   */
  private async readLog(
    after: LogPosition | undefined,
    limit: number | null,
    filter: EventFilter | undefined,
    patient = false,
  ): Promise<PollPage & { horizon: bigint; attributed: boolean }> {
    const [commit, prepare] = cursorParams(after);
    const [prefixes, types] = filterParams(filter);
    const client = await this.pool.connect();
    // Read only now: if this connection is new (a server restart), the cache was just forgotten.
    const known = this.foreignXids.current(performance.now(), ATTRIBUTE_AFTER_MS);
    // A one-off read (readAll) attributes whenever needed; a subscription retries instead while
    // the transaction holding the page back is young.
    const old = patient ? known.old : null;
    let result: QueryResult<LogPageRow>;
    try {
      // The generic plan, forced for this statement only (SET LOCAL ends with the implicit
      // transaction of the batch): left to choose, PostgreSQL kept planning the page's CTEs for
      // every poll (1.3-7 ms of planning for 0.1-1 ms of execution; the generic plan walks the
      // same index, see the plan specs).
      const page = this.batch.page.statements(client, [
        sqlLiteral(commit),
        sqlLiteral(prepare),
        textArrayLiteral(prefixes, 'a stream prefix'),
        textArrayLiteral(types, 'an event type'),
        limit === null ? 'NULL' : sqlLiteral(String(limit)),
        xidArrayLiteral(known.ids),
        old === null ? 'NULL' : xidArrayLiteral(old),
      ]);
      const results = (await client.query([KEYED_GENERIC_PLANS_SQL, ...page.sql].join(';\n'))) as unknown as QueryResult[];
      page.confirm();
      result = results[results.length - 1] as QueryResult<LogPageRow>;
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    client.release();
    const head = result.rows[0];
    const horizon = BigInt(head.horizon);
    this.foreignXids.learn(known.epoch, head.running, head.foreign_ids, performance.now());
    const events = result.rows.filter((r) => r.event_id !== null).map(toRecorded);
    // Below the horizon the log is final; when the page was not cut by the limit, the next read
    // can start after the last row below it even if the filter left that row out. Not at the
    // horizon: after a crash the server may hand out ids below it again (see logPageSql).
    const scannedTo =
      (limit === null || events.length < limit) && head.tail_tx !== null && head.tail_pos !== null
        ? { commit: BigInt(head.tail_tx), prepare: BigInt(head.tail_pos) }
        : undefined;
    // Look again soon rather than sleep a whole poll interval when a matching row is known to lie
    // above the horizon (attribution deferred), or when a transaction this process saw commit is
    // not below the horizon yet (an older one still runs). Without attribution and without a
    // waiting row, everything committed before the snapshot is on this page (a commit after it
    // changes the signal and wakes the loop).
    const retrySoon = head.attributed ? horizon <= this.shared.committed : head.waiting;
    return { events, scannedTo, retrySoon, horizon, attributed: head.attributed };
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    this.assertOpen();
    if (this.options.notify === true) this.ensureListener();
    const sub: Subscription = startPollingSubscription(options, {
      poll: (after, limit, filter) => {
        if (this.options.notify === true) this.ensureListener();
        return this.readLog(after, limit, filter, true);
      },
      signal: this.changed,
      pollIntervalMs: this.options.pollIntervalMs ?? defaultPollIntervalMs(),
      minReadGapMs: this.options.minReadGapMs ?? defaultMinReadGapMs(),
      onStopped: () => this.subscriptions.delete(sub),
    });
    this.subscriptions.add(sub);
    return sub;
  }

  /** Keeps one LISTEN connection per store while subscriptions run; polling covers any outage. */
  private ensureListener(): void {
    if (this.listener || this.listenerConnecting || this.closed || Date.now() < this.listenerRetryAt) return;
    this.listenerConnecting = true;
    const config: ClientConfig = this.ownsPool
      ? { connectionString: this.options.connectionString ?? process.env.DATABASE_URL }
      : (this.pool.options as PoolConfig);
    const client = new Client(config);
    const drop = () => {
      if (this.listener === client) this.listener = undefined;
      this.listenerRetryAt = Date.now() + 2_000;
      client.end().catch(() => undefined);
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', () => this.changed.notify());
    client
      .connect()
      .then(() => client.query(`LISTEN "${this.channel}"`))
      .then(() => {
        this.listenerConnecting = false;
        if (this.closed) return void client.end().catch(() => undefined);
        this.listener = client;
        // Anything committed while we were connecting is picked up by the next poll.
        this.changed.notify();
      })
      .catch(() => {
        this.listenerConnecting = false;
        drop();
      });
  }

  /** An append in transaction `tx` has committed: wake this process's subscriptions on the schema. */
  private committed(tx: bigint): void {
    if (tx > this.shared.committed) this.shared.committed = tx;
    this.changed.notify();
  }

  /**
   * Wakes the subscriptions once the caller's transaction on `client` ends, so a relay publishes
   * an event appended inside a transaction at its commit, not at the next poll. A pg client says
   * when its transaction ended: the server's ReadyForQuery message carries the transaction status,
   * back to idle ('I') after COMMIT or ROLLBACK (a rollback wakes for nothing, harmlessly). A
   * client that cannot be watched (not a pg Client) wakes them on the next turns of the event
   * loop, and the poll covers the rest. Cross-process wake-ups are `notify`'s job.
   */
  private wakeOnCommit(client: SqlClient, tx: bigint): void {
    const c = client as SqlClient & WatchableClient;
    const connection = c.connection;
    if (typeof c.getTransactionStatus !== 'function' || typeof connection?.on !== 'function' || typeof connection.off !== 'function') {
      for (const ms of [0, 5, 25]) setTimeout(() => this.committed(tx), ms).unref();
      return;
    }
    if (c.getTransactionStatus() === 'I') return this.committed(tx); // no transaction open: already committed
    // Many appends in one transaction: one watcher, woken for the newest id.
    if (tx > pendingTx(c)) setPendingTx(c, tx);
    if (watched.has(c)) return;
    watched.add(c);
    const onReady = (msg: { status?: string }) => {
      if (msg.status !== 'I') return;
      connection.off('readyForQuery', onReady);
      watched.delete(c);
      const done = pendingTx(c);
      setPendingTx(c, -1n);
      this.committed(done);
    };
    connection.on('readyForQuery', onReady);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => undefined);
    if (this.ownsPool) await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('PostgresEventStore is closed');
  }
}
