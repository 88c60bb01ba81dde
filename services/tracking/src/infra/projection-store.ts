import { queryPrepared, type SqlQueryable } from '@flowline/messaging';
import type { SlaConfig } from '../domain/sla';
import { clockStatus, type OrderSummaryRow } from '../projections/order-summary.projection';
import { projectEvent } from '../projections/order-tracking.projection';
import type { TimelineEntryRow } from '../projections/order-timeline.projection';
import { foldStageVisit, type StageVisitRow } from '../projections/stage-durations.projection';
import { orderIdOf, type TrackedEvent } from '../projections/tracked-event';
import { projectionFields, SUMMARY_COLUMNS, summaryFromRecord, summaryToRecord, timelineToRecord, TIMELINE_KEYS, visitToRecord } from './row-mapping';
import { quoteSchema, table } from './tracking-schema';

/** The projection's columns of order_summary, for the prepared load (see loadSummaries). */
const SUMMARY_COLUMN_LIST = SUMMARY_COLUMNS.map((c) => `"${c}"`).join(', ');

/** Where a consumed event sat in Kafka (logical topic name). */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface PositionedEvent {
  /** Undefined for a message tracking does not understand (unknown type or version): only its position counts. */
  event: TrackedEvent | undefined;
  position: SourcePosition;
  eventId: string;
  occurredAt: string;
}

/** What a transaction changed, for live notifications. */
export interface ApplyResult {
  summaries: OrderSummaryRow[];
  timeline: TimelineEntryRow[];
}

/**
 * Postgres NOTIFY channel carrying changed order ids (delivered on commit, to every replica). A
 * payload is `*` (rebuilt: reload everything), one order id, or a JSON array of order ids: one
 * notification per projected batch, not one per order (see changeNotifications).
 */
export const ORDER_CHANGED_CHANNEL = 'tracking_order_changed';

/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_NOTIFY_PAYLOAD = 7_800;

/** The payloads announcing `orderIds`: JSON arrays, as few as fit under the NOTIFY size limit. */
export function changeNotifications(orderIds: readonly string[]): string[] {
  const out: string[] = [];
  let chunk: string[] = [];
  let size = 2;
  for (const id of orderIds) {
    const add = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (chunk.length > 0 && size + add > MAX_NOTIFY_PAYLOAD) {
      out.push(JSON.stringify(chunk));
      chunk = [];
      size = 2;
    }
    chunk.push(id);
    size += add;
  }
  if (chunk.length > 0) out.push(JSON.stringify(chunk));
  return out;
}

/** The order ids a notification payload names (`*` is handled by the caller). */
export function changedOrderIds(payload: string): string[] {
  if (payload.startsWith('[')) {
    try {
      const ids: unknown = JSON.parse(payload);
      if (Array.isArray(ids)) return ids.filter((id): id is string => typeof id === 'string' && id !== '');
    } catch {
      /* not a list: a single id */
    }
  }
  return payload ? [payload] : [];
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const q = (c: string) => `"${c}"`;

/**
 * Writes projection changes into one tracking schema (the live one or a rebuild's). One code path
 * for live consumption and replay: load the touched summaries, fold the events with the pure
 * projections, write everything in one statement. Runs inside the caller's transaction.
 */
export class ProjectionStore {
  private readonly summaryUpsert: string;
  private readonly writeAll: string;

  constructor(
    readonly schema: string,
    private readonly config: SlaConfig,
    private readonly options: { notify: boolean } = { notify: true },
  ) {
    quoteSchema(schema);
    const S = table(schema, 'order_summary');
    const cols = [...SUMMARY_COLUMNS, 'sla_colour', 'stuck', 'status_at'];
    this.summaryUpsert = `INSERT INTO ${S} (${cols.map(q).join(', ')})
      SELECT ${cols.map(q).join(', ')} FROM jsonb_populate_recordset(NULL::${S}, $1::jsonb)
      ON CONFLICT ("order_id") DO UPDATE SET ${cols.filter((c) => c !== 'order_id').map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}, "updated_at" = now()`;
    const T = table(schema, 'timeline_entry');
    const tcols = TIMELINE_KEYS.map(snake);
    const V = table(schema, 'stage_visit');
    // Named, as the other writes: `SELECT *` of the recordset fills by position, so a column a
    // later release adds would get NULL (not its default) from replicas still running.
    const vcols = ['order_id', 'visit', 'stage', 'channel', 'entered_at', 'left_at', 'duration_ms'];
    const C = table(schema, 'checkpoint');
    // Data-modifying CTEs: one round trip for every write of the batch. They share one snapshot, so
    // a visit opened and closed in the same batch is written once, already closed (see apply()).
    this.writeAll = `WITH
      s AS (${this.summaryUpsert} RETURNING 1),
      t AS (INSERT INTO ${T} (${tcols.map(q).join(', ')}) SELECT ${tcols.map(q).join(', ')} FROM jsonb_populate_recordset(NULL::${T}, $2::jsonb) ON CONFLICT ("event_id") DO NOTHING RETURNING 1),
      -- Opened and closed visits by key, with no join for the planner to choose: a generic plan guesses
      -- 100 rows for the recordset and, on a stage_visit of a few ten thousand rows, hash-joined it
      -- against a sequential scan (15 ms a batch). An open (left_at null) never overwrites; a close sets
      -- the times, or records the whole closed visit when its open was never written.
      v AS (INSERT INTO ${V} (${vcols.map(q).join(', ')}) SELECT ${vcols.map(q).join(', ')} FROM jsonb_populate_recordset(NULL::${V}, $3::jsonb)
            ON CONFLICT ("order_id", "visit") DO UPDATE SET "left_at" = EXCLUDED."left_at", "duration_ms" = EXCLUDED."duration_ms"
            WHERE EXCLUDED."left_at" IS NOT NULL RETURNING 1),
      c AS (INSERT INTO ${C} ("topic", "partition", "offset", "event_id", "occurred_at", "applied_at")
            SELECT x."topic", x."partition", x."offset", x."event_id", x."occurred_at", now() FROM jsonb_populate_recordset(NULL::${C}, $4::jsonb) x
            ON CONFLICT ("topic", "partition") DO UPDATE SET "offset" = EXCLUDED."offset", "event_id" = EXCLUDED."event_id", "occurred_at" = EXCLUDED."occurred_at", "applied_at" = now()
            WHERE ${C}."offset" < EXCLUDED."offset" RETURNING 1)
      SELECT (SELECT count(*) FROM s) AS s, (SELECT count(*) FROM t) AS t, (SELECT count(*) FROM v) AS v, (SELECT count(*) FROM c) AS c,
             (SELECT count(pg_notify('${ORDER_CHANGED_CHANNEL}', p)) FROM unnest($5::text[]) AS p) AS n`;
  }

  /** Loads summaries by order id, locking them for the transaction (concurrent partitions never share an order, but be safe). */
  async loadSummaries(tx: SqlQueryable, orderIds: string[]): Promise<Map<string, OrderSummaryRow>> {
    if (orderIds.length === 0) return new Map();
    // The columns named, not `*`: the statement is prepared once per connection, and a prepared
    // `SELECT *` fails ("cached plan must not change result type") on every replica still running
    // when a later release's migration adds a column.
    const r = await queryPrepared(tx, `SELECT ${SUMMARY_COLUMN_LIST} FROM ${table(this.schema, 'order_summary')} WHERE "order_id" = ANY($1::text[]) FOR UPDATE`, [orderIds]);
    return summariesOf(r.rows);
  }

  /**
   * Applies events (already claimed in the inbox, so each once) in the order given. `now` only
   * sets the clock status stored with changed rows; the projected fields never depend on it.
   */
  async apply(tx: SqlQueryable, items: PositionedEvent[], now: string, loaded?: Map<string, OrderSummaryRow>): Promise<ApplyResult> {
    const events = items.map((i) => i.event).filter((e): e is TrackedEvent => e !== undefined);
    // `loaded` (applyOnce): the summaries of every item's order, read and locked with the inbox claim.
    const summaries = loaded ?? (await this.loadSummaries(tx, summaryOrderIds(events)));
    const changed = new Map<string, OrderSummaryRow>();
    const timeline: TimelineEntryRow[] = [];
    // Visits opened or closed by this batch; one opened and closed here is written once, closed.
    const visits = new Map<string, StageVisitRow>();

    for (const e of events) {
      const id = orderIdOf(e);
      const result = projectEvent(id ? (summaries.get(id) ?? null) : null, e, this.config);
      if (!result.orderId) continue;
      if (result.summaryChanged && result.summary) {
        summaries.set(result.orderId, result.summary);
        changed.set(result.orderId, result.summary);
      }
      if (result.timeline) timeline.push(result.timeline);
      for (const c of result.stageVisits) foldStageVisit(visits, c);
    }

    const checkpoints = new Map<string, Record<string, unknown>>();
    for (const i of items) {
      const key = `${i.position.topic}#${i.position.partition}`;
      const prev = checkpoints.get(key);
      if (!prev || BigInt(prev.offset as string) < BigInt(i.position.offset)) {
        checkpoints.set(key, { topic: i.position.topic, partition: i.position.partition, offset: i.position.offset, event_id: i.eventId, occurred_at: i.occurredAt });
      }
    }

    const summaryRecords = [...changed.values()].map((row) => summaryToRecord(row, { ...clockStatus(row, now, this.config), statusAt: now }));
    // Every write and the batch's change notification in one prepared statement: one round trip.
    await queryPrepared(tx, this.writeAll, [
      JSON.stringify(summaryRecords),
      JSON.stringify(timeline.map(timelineToRecord)),
      JSON.stringify([...visits.values()].map(visitToRecord)),
      JSON.stringify([...checkpoints.values()]),
      this.options.notify ? changeNotifications([...changed.keys()]) : [],
    ]);
    return { summaries: [...changed.values()], timeline };
  }

  /**
   * Claims the events in the inbox under `group` and applies those that are new, each once (a
   * repeated event id in the same chunk counts as a duplicate). Positions of every item move the
   * checkpoint. One call = one chunk of one transaction.
   */
  async applyOnce(tx: SqlQueryable, group: string, items: PositionedEvent[], now: string): Promise<ApplyResult & { applied: number; duplicates: number }> {
    const { fresh, summaries } = await this.claimAndLoad(tx, group, items);
    const used = new Set<string>();
    const once = items.map((item) => {
      if (fresh.has(item.eventId) && !used.has(item.eventId)) {
        used.add(item.eventId);
        return item;
      }
      return { ...item, event: undefined };
    });
    const result = await this.apply(tx, once, now, summaries);
    return { ...result, applied: used.size, duplicates: items.length - used.size };
  }

  /**
   * Claims events in this schema's inbox under `group` (the live consumer group, so that after a
   * swap the live consumer skips what the rebuild applied). Returns the event ids that were new.
   */
  async claim(tx: SqlQueryable, group: string, items: PositionedEvent[]): Promise<Set<string>> {
    return (await this.claimAndLoad(tx, group, items)).fresh;
  }

  /**
   * The inbox claim and the summary load of applyOnce in one statement (one round trip fewer per
   * transaction, issue #10): claims the items' event ids and reads, locked, the summaries of the
   * orders of all items. That is a superset of what the fresh events need (a redelivered event's
   * order is read too, and left unchanged); both parts see the transaction's one snapshot.
   */
  async claimAndLoad(tx: SqlQueryable, group: string, items: PositionedEvent[]): Promise<{ fresh: Set<string>; summaries: Map<string, OrderSummaryRow> }> {
    const unique = new Map<string, PositionedEvent>();
    for (const i of items) if (!unique.has(i.eventId)) unique.set(i.eventId, i);
    if (unique.size === 0) return { fresh: new Set(), summaries: new Map() };
    const list = [...unique.values()];
    const orderIds = summaryOrderIds(list.map((i) => i.event).filter((e): e is TrackedEvent => e !== undefined));
    // One row per loaded summary (or one row of NULL columns when there is none), each carrying the
    // claimed ids. The summary's columns are named (see loadSummaries: the statement is prepared).
    const r = await queryPrepared(
      tx,
      `WITH c AS (
         INSERT INTO ${table(this.schema, 'inbox')} ("consumer_group", "event_id", "event_type", "topic", "partition", "offset")
         SELECT $1, x.event_id, x.event_type, x.topic, x.partition, x.offset
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS x(event_id, event_type, topic, partition, "offset")
         ON CONFLICT ("consumer_group", "event_id") DO NOTHING RETURNING "event_id"),
       l AS (SELECT ${SUMMARY_COLUMN_LIST} FROM ${table(this.schema, 'order_summary')} WHERE "order_id" = ANY($7::text[]) FOR UPDATE)
       SELECT f."claimed_event_ids", l.* FROM (SELECT coalesce(array_agg("event_id"), '{}') AS "claimed_event_ids" FROM c) f LEFT JOIN l ON true`,
      [
        group,
        list.map((i) => i.eventId),
        list.map((i) => i.event?.type ?? 'unknown'),
        list.map((i) => i.position.topic),
        list.map((i) => i.position.partition),
        list.map((i) => i.position.offset),
        orderIds,
      ],
    );
    const fresh = new Set<string>(r.rows[0]?.claimed_event_ids ?? []);
    const rows = r.rows.filter((rec: Record<string, unknown>) => rec.order_id !== null).map(({ claimed_event_ids: _, ...rec }: Record<string, unknown>) => rec);
    return { fresh, summaries: summariesOf(rows) };
  }
}

/** The orders whose summaries `events` may change: order events, and approval steps (they restart the awaiting-approval SLA). */
function summaryOrderIds(events: TrackedEvent[]): string[] {
  return [...new Set(events.filter((e) => e.type.startsWith('Order') || e.type === 'ApprovalStepStarted').map(orderIdOf).filter((id): id is string => !!id))];
}

/** Stored summary records (pg types) by order id, in the projection's shape. */
function summariesOf(records: Record<string, unknown>[]): Map<string, OrderSummaryRow> {
  const out = new Map<string, OrderSummaryRow>();
  for (const rec of records) {
    const row = projectionFields(summaryFromRecord(rec));
    out.set(row.orderId, row);
  }
  return out;
}
