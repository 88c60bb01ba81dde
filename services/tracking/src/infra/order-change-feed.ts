import type { TrackingOrderChange } from '@flowline/contracts';
import { databasePoolTimings, guardPool } from '@flowline/platform';
import { Client, Pool } from 'pg';
import { Subject, type Observable } from 'rxjs';
import { changedOrderIds, ORDER_CHANGED_CHANNEL } from './projection-store';
import { namedStatement } from '@flowline/messaging';
import { STORED_SUMMARY_COLUMNS, summaryFromRecord, TIMELINE_COLUMNS, timelineFromRecord } from './row-mapping';
import { table, TRACKING_SCHEMA } from './tracking-schema';
import { toOrderView, toTimelineView } from '../application/views';

const quoted = (cols: readonly string[]) => cols.map((c) => `"${c}"`).join(', ');
const SUMMARIES_SQL = `SELECT ${quoted(STORED_SUMMARY_COLUMNS)} FROM ${table(TRACKING_SCHEMA, 'order_summary')} WHERE "order_id" = ANY($1::text[])`;
const LATEST_ENTRIES_SQL = `SELECT DISTINCT ON ("order_id") ${quoted(TIMELINE_COLUMNS)} FROM ${table(TRACKING_SCHEMA, 'timeline_entry')} WHERE "order_id" = ANY($1::text[])
         ORDER BY "order_id", "occurred_at" DESC, "stream_position" DESC, "event_id" DESC`;

/**
 * Live updates for SSE and gRPC WatchOrders. Projection and clock-job transactions `NOTIFY` the
 * ids of the orders they changed (one JSON list per transaction) (delivered on commit, to every replica, whichever consumed the
 * partition); this LISTENs on its own connection, reloads those rows in small batches and emits.
 * `*` (after a rebuild swap) becomes a `rebuilt` message: clients reload.
 */
export class OrderChangeFeed {
  private client: Client | null = null;
  /**
   * The reads of a flush, on a pool connection of their own rather than the LISTEN connection:
   * their prepared statements keep their plans for their connection's life, and the LISTEN one
   * lives as long as the process. Made while the timeline was nearly empty, the plan went on
   * reading far more than the orders asked for (800 buffers a flush of a few orders, issue #10);
   * a pool connection is replaced after DATABASE_POOL_LIFETIME_S and plans again. Both reads are
   * keyed by order ids, so the reader's connections plan them without sequential scans or JIT, as
   * the log page and order-intake's commit tail do (KEYED_GENERIC_PLANS_SQL): the first lifetime of a new
   * system's reader starts on an empty timeline.
   */
  private reader: Pool | null = null;
  private readonly subject = new Subject<TrackingOrderChange>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly now: () => Date,
    private readonly flushMs = 50,
  ) {}

  get changes(): Observable<TrackingOrderChange> {
    return this.subject.asObservable();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.reader ??= guardPool(new Pool({ connectionString: this.databaseUrl, max: 1, options: '-c enable_seqscan=off -c jit=off', ...databasePoolTimings() }));
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, keepAlive: true });
    client.on('notification', (n) => {
      if (n.channel !== ORDER_CHANGED_CHANNEL || !n.payload) return;
      if (n.payload === '*') {
        this.subject.next({ kind: 'rebuilt', at: this.now().toISOString() });
        return;
      }
      for (const id of changedOrderIds(n.payload)) this.pending.add(id);
      this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    });
    client.on('error', () => undefined);
    client.on('end', () => {
      this.client = null;
      // Reconnect after a dropped connection; a missed notification only delays a board update.
      if (!this.stopped) setTimeout(() => void this.connect().catch(() => undefined), 1_000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${ORDER_CHANGED_CHANNEL}`);
    this.client = client;
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const ids = [...this.pending];
    this.pending.clear();
    const reader = this.reader;
    if (ids.length === 0 || !this.client || !reader) return;
    try {
      // Every flush (each 50 ms while orders change): prepared once per reader connection, planned
      // per call they cost PostgreSQL more than they ran (issue #10). The columns are named: a
      // prepared `*` fails on a running replica once a migration adds a column.
      const r = await reader.query(namedStatement(SUMMARIES_SQL, [ids]));
      const latest = await reader.query(namedStatement(LATEST_ENTRIES_SQL, [ids]));
      const entries = new Map(latest.rows.map((row) => [row.order_id as string, toTimelineView(timelineFromRecord(row))]));
      for (const row of r.rows) {
        const order = toOrderView(summaryFromRecord(row));
        this.subject.next({ kind: 'order', order, entry: entries.get(order.orderId) ?? null });
      }
    } catch {
      /* the next change will bring the row again */
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.subject.complete();
    await this.client?.end().catch(() => undefined);
    this.client = null;
    const reader = this.reader;
    this.reader = null;
    await reader?.end().catch(() => undefined);
  }
}
