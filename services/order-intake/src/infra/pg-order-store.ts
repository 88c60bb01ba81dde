import type { Channel, OrderStage } from '@flowline/contracts';
import { fold } from '@flowline/domain';
import type { NewEvent, PostgresEventStore, RecordedEvent, SqlClient, StreamAppend } from '@flowline/eventstore';
import type { Prefetch } from '../application/idempotency';
import { namedStatement } from '@flowline/messaging';
import type { Pool } from 'pg';
import { orderDecider } from '../domain/order.decider';
import { orderStreamId, type OrderEvent } from '../domain/order.events';
import { isExisting } from '../domain/order.state';
import { summaryOf } from '../application/order-summary';
import { SHORT_SKUS_BACKFILL } from './order-intake-schema';
import { commitWithTail, deferSqlToCommit, deferToCommit, dropCommitTail, hasCommitTail, openCommitTail } from './commit-tail';
import { ChannelOrderTaken, processStreamId, type ListOrdersFilter, type LoadedOrder, type OrderChange, type OrderStore, type OrderSummary } from '../application/order-store.port';

interface SummaryRow {
  order_id: string;
  channel: string;
  channel_order_id: string;
  shop_id: string;
  stage: string;
  on_hold: boolean;
  in_exception: boolean;
  grand_total: string;
  currency: string;
  placed_at: Date;
  updated_at: Date;
  revision: number;
  movable_since: Date;
  reserved: boolean;
  presale_next_at: Date | null;
  short_skus: string[] | null;
}

function toSummary(r: SummaryRow): OrderSummary {
  return {
    orderId: r.order_id,
    channel: r.channel as Channel,
    channelOrderId: r.channel_order_id,
    shopId: r.shop_id,
    stage: r.stage as OrderStage,
    onHold: r.on_hold,
    inException: r.in_exception,
    grandTotal: Number(r.grand_total),
    currency: r.currency,
    placedAt: r.placed_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    revision: r.revision,
    movableSince: r.movable_since.toISOString(),
    reserved: r.reserved,
    presaleNextAt: r.presale_next_at ? r.presale_next_at.toISOString() : null,
    shortSkus: r.short_skus ?? null,
  };
}

function loadedOrder(events: RecordedEvent[]): LoadedOrder {
  const state = fold(orderDecider, events.map((e) => ({ type: e.type, data: e.data }) as OrderEvent));
  return { state, revision: events.length === 0 ? 'no_stream' : events[events.length - 1].streamPosition, events };
}

const CLAIM_SQL = 'INSERT INTO order_channel_claims (channel, channel_order_id, order_id) VALUES ($1, $2, $3)';

function isClaimConflict(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'order_channel_claims_pkey';
}

const SUMMARY_UPSERT_SQL = `INSERT INTO order_summaries (order_id, channel, channel_order_id, shop_id, stage, on_hold, in_exception, grand_total, currency,
                              placed_at, updated_at, revision, movable_since, reserved, presale_next_at, short_skus)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
         CASE WHEN $16::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($16::jsonb)) END)
 ON CONFLICT (order_id) DO UPDATE SET
   stage = EXCLUDED.stage, on_hold = EXCLUDED.on_hold, in_exception = EXCLUDED.in_exception, updated_at = EXCLUDED.updated_at,
   revision = EXCLUDED.revision, movable_since = EXCLUDED.movable_since, reserved = EXCLUDED.reserved, presale_next_at = EXCLUDED.presale_next_at,
   short_skus = EXCLUDED.short_skus
 WHERE order_summaries.revision < EXCLUDED.revision`;

/**
 * OrderStore on PostgreSQL: events in the event store (schema `eventstore`), claims and the read
 * table in order-intake's own tables, all written in one transaction. The order's events and its
 * outbox go in as one statement, first: the store orders its log by transaction id. A load inside
 * a transaction takes the outbox stream's lock with the read, so that append needs no lock
 * statement. With a commit tail (commit-tail.ts: requests and this store's own transactions) the
 * append goes with the COMMIT where a conflict may fail it there (`append`), and so do the read
 * table row and a first try's channel-order claim; else they go at once (the process manager's
 * consumer transactions). Sent at once, a revision another writer already committed is
 * WrongExpectedVersion with the transaction intact; a race with a writer still in flight, or any
 * conflict of an append sent with the COMMIT, leaves the transaction aborted (no savepoint), which
 * the caller's retry of the whole transaction absorbs (a new one over HTTP, the consumer's retry
 * in the process manager).
 */
export class PgOrderStore implements OrderStore {
  constructor(
    private readonly pool: Pool,
    private readonly eventStore: PostgresEventStore,
  ) {}

  async load(orderId: string, tx?: SqlClient): Promise<LoadedOrder> {
    // Inside a transaction the outbox stream's lock comes with the read: a command's outbox append
    // ('any') then skips its lock statement (one round trip less per command that writes one).
    const events = tx
      ? await this.eventStore.readStreamWithin(tx, orderStreamId(orderId), { lockStreams: [processStreamId(orderId)] })
      : await this.eventStore.readStream(orderStreamId(orderId));
    return loadedOrder(events);
  }

  loadPrefetch(orderId: string): Prefetch<LoadedOrder> {
    return (tx) => {
      const statement = this.eventStore.streamReadSql(tx, orderStreamId(orderId), { lockStreams: [processStreamId(orderId)] });
      return { sql: statement.sql, statements: statement.statements, read: (results) => loadedOrder(statement.read(results)) };
    };
  }

  async commit(change: OrderChange, tx?: SqlClient): Promise<{ revision: number }> {
    if (tx) return this.commitWithin(tx, change);
    return this.inTransaction((client) => this.commitWithin(client, change));
  }

  async appendOutbox(orderId: string, events: NewEvent[], tx?: SqlClient): Promise<void> {
    if (events.length === 0) return;
    if (tx) {
      await this.eventStore.appendToStreamsWithin(tx, [{ streamId: processStreamId(orderId), events, expectedRevision: 'any' }]);
      return;
    }
    await this.eventStore.appendToStream(processStreamId(orderId), events, { expectedRevision: 'any' });
  }

  async findByChannelOrder(channel: string, channelOrderId: string, tx?: SqlClient): Promise<string | null> {
    const r = await (tx ?? this.pool).query<{ order_id: string }>('SELECT order_id FROM order_channel_claims WHERE channel = $1 AND channel_order_id = $2', [channel, channelOrderId]);
    return r.rows[0]?.order_id ?? null;
  }

  async claimChannelOrder(channel: string, channelOrderId: string, orderId: string, tx: SqlClient): Promise<{ claimed: true } | { claimed: false; owner: string | null }> {
    // The insert waits for a concurrent claim of the same key to end; the owner row is then read
    // in the same statement (its snapshot may predate that claim's commit: owner null, run again).
    const r = await tx.query<{ order_id: string; claimed: boolean }>(
      `WITH ins AS (
         INSERT INTO order_channel_claims (channel, channel_order_id, order_id) VALUES ($1, $2, $3)
         ON CONFLICT (channel, channel_order_id) DO NOTHING RETURNING order_id)
       SELECT order_id, true AS claimed FROM ins
       UNION ALL
       SELECT order_id, false AS claimed FROM order_channel_claims
        WHERE channel = $1 AND channel_order_id = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [channel, channelOrderId, orderId],
    );
    const row = r.rows[0];
    if (row?.claimed) return { claimed: true };
    return { claimed: false, owner: row?.order_id ?? null };
  }

  async list(f: ListOrdersFilter): Promise<OrderSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.channel) add('channel = ?', f.channel);
    if (f.stages?.length) add('stage = ANY(?::text[])', f.stages);
    if (f.shopId) add('shop_id = ?', f.shopId);
    if (f.flag === 'on_hold') where.push('on_hold');
    if (f.flag === 'exception') where.push('in_exception');
    if (f.beforeOrderId) add('order_id < ?', f.beforeOrderId);
    params.push(f.limit);
    const r = await this.pool.query<SummaryRow>(
      `SELECT * FROM order_summaries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY order_id DESC LIMIT $${params.length}`,
      params,
    );
    return r.rows.map(toSummary);
  }

  async awaitingStockSince(before: string, limit: number): Promise<OrderSummary[]> {
    const r = await this.pool.query<SummaryRow>(
      `SELECT * FROM order_summaries
        WHERE stage = 'paid' AND NOT reserved AND NOT on_hold AND NOT in_exception AND movable_since <= $1
        ORDER BY movable_since LIMIT $2`,
      [before, limit],
    );
    return r.rows.map(toSummary);
  }

  async presaleDue(now: string, limit: number): Promise<OrderSummary[]> {
    const r = await this.pool.query<SummaryRow>(
      `SELECT * FROM order_summaries WHERE presale_next_at IS NOT NULL AND presale_next_at <= $1 ORDER BY presale_next_at LIMIT $2`,
      [now, limit],
    );
    return r.rows.map(toSummary);
  }

  async deliveredSince(before: string, limit: number, after?: { movableSince: string; orderId: string }): Promise<OrderSummary[]> {
    const r = await this.pool.query<SummaryRow>(
      `SELECT * FROM order_summaries
        WHERE stage = 'delivered' AND NOT on_hold AND NOT in_exception AND movable_since <= $1
          ${after ? 'AND (movable_since, order_id) > ($3::timestamptz, $4)' : ''}
        ORDER BY movable_since, order_id LIMIT $2`,
      after ? [before, limit, after.movableSince, after.orderId] : [before, limit],
    );
    return r.rows.map(toSummary);
  }

  async waitingForStock(f: { sku?: string; limit: number; after?: { placedAt: string; orderId: string } }): Promise<OrderSummary[]> {
    const params: unknown[] = [f.limit];
    const where = ['short_skus IS NOT NULL'];
    if (f.sku !== undefined) where.push(`$${params.push(f.sku)} = ANY (short_skus)`);
    if (f.after) where.push(`(placed_at, order_id) > ($${params.push(f.after.placedAt)}::timestamptz, $${params.push(f.after.orderId)})`);
    const r = await this.pool.query<SummaryRow>(`SELECT * FROM order_summaries WHERE ${where.join(' AND ')} ORDER BY placed_at, order_id LIMIT $1`, params);
    return r.rows.map(toSummary);
  }

  async relistWaiting(): Promise<void> {
    await this.pool.query(SHORT_SKUS_BACKFILL);
  }

  async clearShortSkus(orderId: string, revision: number): Promise<void> {
    await this.pool.query('UPDATE order_summaries SET short_skus = NULL WHERE order_id = $1 AND revision = $2 AND short_skus IS NOT NULL', [orderId, revision]);
  }

  private async commitWithin(client: SqlClient, change: OrderChange): Promise<{ revision: number }> {
    const appends: StreamAppend[] = [{ streamId: orderStreamId(change.orderId), events: change.events, expectedRevision: change.expectedRevision }];
    // A new order has no outbox stream yet: 'no_stream' spares the per-stream lock 'any' takes.
    if (change.outbox?.length) appends.push({ streamId: processStreamId(change.orderId), events: change.outbox, expectedRevision: change.expectedRevision === 'no_stream' ? 'no_stream' : 'any' });
    const revision = await this.append(client, appends, change.conflictAtCommit === true || appends.every((a) => a.expectedRevision === 'no_stream'));
    if (change.claim) {
      const { channel, channelOrderId } = change.claim;
      // With the COMMIT when the transaction has a commit tail: a claim taken meanwhile fails it
      // (unique violation, after waiting for that claim's transaction) and everything rolls back.
      const deferred = deferToCommit(client, CLAIM_SQL, [channel, channelOrderId, change.orderId], (error) =>
        isClaimConflict(error) ? new ChannelOrderTaken(channel, channelOrderId) : undefined,
      );
      if (!deferred) {
        const claimed = await client.query(`${CLAIM_SQL} ON CONFLICT (channel, channel_order_id) DO NOTHING RETURNING order_id`, [channel, channelOrderId, change.orderId]);
        // Another transaction claimed it first (it waited for that one to commit): throwing rolls
        // back this order's append with everything else.
        if (claimed.rowCount === 0) throw new ChannelOrderTaken(channel, channelOrderId);
      }
    }
    if (isExisting(change.stateAfter)) {
      const s = summaryOf(change.stateAfter, revision, change.events[change.events.length - 1].metadata.occurredAt);
      const params = [s.orderId, s.channel, s.channelOrderId, s.shopId, s.stage, s.onHold, s.inException, s.grandTotal, s.currency, s.placedAt, s.updatedAt, s.revision, s.movableSince, s.reserved, s.presaleNextAt ?? null, s.shortSkus ? JSON.stringify(s.shortSkus) : null];
      // Nothing reads its result: with the COMMIT when the transaction has a commit tail (where
      // parameters become literals: the SKU list goes as JSON text, made an array by the statement);
      // else (the process manager's reactions) at once, prepared once per connection.
      if (!deferToCommit(client, SUMMARY_UPSERT_SQL, params)) await client.query(namedStatement(SUMMARY_UPSERT_SQL, params));
    }
    return { revision };
  }

  /**
   * The order's append; returns the order stream's new revision. In a transaction with a commit
   * tail it goes with the COMMIT, first of the tail (deferredAppendSql: new streams, the order at
   * the revision loaded in this transaction, the outbox under the lock its load took), when the
   * caller lets a conflict surface there (`late`: a new order, or a command whose conflict is run
   * again anyway): a stream that moved on fails the COMMIT with WrongExpectedVersion and
   * everything rolls back, as a lost race of the statement sent at once would have. Otherwise,
   * and when deferredAppendSql cannot (an outbox lock not held), it is sent now.
   */
  private async append(client: SqlClient, appends: StreamAppend[], late: boolean): Promise<number> {
    const append = late && hasCommitTail(client) ? this.eventStore.deferredAppendSql(client, appends) : undefined;
    const revision = append?.revisions[0];
    if (append && revision !== undefined) {
      const translate = (error: unknown) => {
        const mapped = append.translate(error);
        return mapped === error ? undefined : (mapped as Error);
      };
      deferSqlToCommit(client, append.sql, translate, (result) => append.committed(result), append.statements);
      return revision;
    }
    const [appended] = await this.eventStore.appendToStreamsWithin(client, appends);
    return appended.nextExpectedRevision;
  }

  private async inTransaction<T>(fn: (client: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      openCommitTail(client);
      const result = await fn(client);
      await commitWithTail(client);
      return result;
    } catch (error) {
      dropCommitTail(client);
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      dropCommitTail(client);
      client.release(broken);
    }
  }
}
