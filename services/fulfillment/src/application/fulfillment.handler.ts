import type { Actor } from '@flowline/contracts';
import { fold, isDomainError } from '@flowline/domain';
import { OutOfOrderAppend, WrongExpectedVersion, type PostgresEventStore, type SqlClient } from '@flowline/eventstore';
import { idempotencyKeyReused, requestHash } from '@flowline/platform';
import type { Pool, PoolClient } from 'pg';
import {
  fulfillmentStream,
  orderFulfillmentDecider,
  type FulfillmentCommand,
  type FulfillmentEvent,
  type FulfillmentState,
} from '../domain/order-fulfillment.decider';
import { fulfillmentNotStarted } from './fulfillment.service';
import { shipmentRows, upsertShipmentRows, type ShipmentRow } from './shipment-rows';

/** Who asked and in which conversation; ids and time come from the edge that accepted the command. */
export interface CommandMeta {
  commandId: string;
  correlationId: string;
  causationId: string | null;
  actor?: Actor;
  /** Idempotency-Key of a REST / gRPC command, scoped by operation: a repeat replays the first reply. */
  idempotency?: { key: string; request: unknown };
}

export interface Outcome {
  orderId: string;
  state: FulfillmentState;
  /** Events this call appended (none for a no-op or a replay). */
  events: FulfillmentEvent[];
  /** Stream revision after the call (-1: no stream). */
  revision: number;
}

const MAX_RACES = 20;

/** An event as this call appended it (id and time as stored). */
export interface AppendedFulfillmentEvent {
  eventId: string;
  occurredAt: string;
  event: FulfillmentEvent;
}

/**
 * Writes that belong with an order's events, in their transaction: the order's parcel rows (the
 * pick list reads them) and whatever else goes with the events (the webhook outbox, restocks). It
 * must write `rows`: the service's writer puts the parcel rows and the webhook outbox in ONE
 * statement (writeParcelsAndWebhooks). The default writes the parcel rows alone.
 */
export type WriteWithEvents = (client: SqlClient, orderId: string, rows: ShipmentRow[], appended: AppendedFulfillmentEvent[]) => Promise<void>;

const parcelRowsOnly: WriteWithEvents = (client, _orderId, rows) => upsertShipmentRows(client, rows);

/**
 * load -> decide -> append with the expected revision, and the parcel rows in the same
 * transaction. A lost race (another command appended first) is re-decided on the new state, so
 * of "stop" and "pack" arriving together exactly one goes first and the other sees its result.
 */
export class FulfillmentHandler {
  constructor(
    private readonly pool: Pool,
    private readonly store: PostgresEventStore,
    private readonly newId: () => string,
    /** The parcel rows and what else belongs with the events, in their transaction (see WriteWithEvents). */
    private readonly withEvents: WriteWithEvents = parcelRowsOnly,
  ) {}

  async load(orderId: string, client?: SqlClient): Promise<{ state: FulfillmentState; revision: number }> {
    const recorded = client ? await this.store.readStreamWithin(client, fulfillmentStream(orderId)) : await this.store.readStream(fulfillmentStream(orderId));
    const events = recorded.map((r) => ({ type: r.type, data: r.data }) as FulfillmentEvent);
    return { state: fold(orderFulfillmentDecider, events), revision: recorded.length ? recorded[recorded.length - 1].streamPosition : -1 };
  }

  /**
   * Runs a command in its own transaction (a lost race is retried in a new one: a transaction that
   * lost keeps its older id, and the log is ordered by transaction id), or in the caller's (a Kafka
   * consumer's, with its inbox row; the consumer retries a lost race in a new transaction).
   * `loaded`: the order's state and revision the caller read in that same transaction (no second read).
   */
  async execute(orderId: string, command: FulfillmentCommand, meta: CommandMeta, client?: SqlClient, loaded?: { state: FulfillmentState; revision: number }): Promise<Outcome> {
    if (client) return this.executeWithin(client, orderId, command, meta, loaded);
    return this.inNewTransactions(async (c) => ({ result: await this.executeWithin(c, orderId, command, meta), commit: true }));
  }

  /**
   * Runs `fn` in a transaction of its own, again in a new one when it lost a race (several streams
   * in one transaction: a merged parcel's group and its orders, ADR 0013).
   */
  transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.inNewTransactions(async (c) => ({ result: await fn(c), commit: true }));
  }

  /** A command within the caller's transaction, without retrying inside it (the caller's transaction is retried whole). */
  executeIn(client: SqlClient, orderId: string, command: FulfillmentCommand, meta: CommandMeta): Promise<Outcome> {
    return this.executeWithin(client, orderId, command, meta);
  }

  /** Stores the reply of an idempotent command in the caller's transaction; false when the key was claimed meanwhile. */
  async claimIdempotency(client: SqlClient, idempotency: { key: string; request: unknown }, body: unknown): Promise<boolean> {
    const r = await client.query('INSERT INTO http_idempotency (key, request_hash, response) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [idempotency.key, requestHash(idempotency.request), JSON.stringify(body)]);
    return (r.rowCount ?? 0) > 0;
  }

  private async inNewTransactions<T>(fn: (c: PoolClient) => Promise<{ result: T; commit: boolean }>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        const { result, commit } = await fn(c);
        await c.query(commit ? 'COMMIT' : 'ROLLBACK');
        return result;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        if ((e instanceof WrongExpectedVersion || e instanceof OutOfOrderAppend) && attempt < MAX_RACES) continue;
        throw e;
      } finally {
        c.release();
      }
    }
  }

  /** The stored reply of an idempotent command, if this key was seen (refused when it came with another request). */
  async replay<T>(key: string, request: unknown): Promise<T | undefined> {
    const r = await this.pool.query<{ request_hash: string; response: T }>('SELECT request_hash, response FROM http_idempotency WHERE key = $1', [key]);
    if (!r.rows[0]) return undefined;
    if (r.rows[0].request_hash !== requestHash(request)) throw idempotencyKeyReused(key);
    return r.rows[0].response;
  }

  /**
   * An idempotent command: runs `command` once per key; the reply (computed by `reply` from the
   * outcome) is stored with the events in one transaction, and a repeat gets the stored reply.
   */
  async executeOnce<T>(orderId: string, command: FulfillmentCommand, meta: CommandMeta & { idempotency: { key: string; request: unknown } }, reply: (o: Outcome) => T): Promise<T> {
    const seen = await this.replay<T>(meta.idempotency.key, meta.idempotency.request);
    if (seen !== undefined) return seen;
    const outcome = await this.inNewTransactions<{ raced: true } | { raced: false; body: T }>(async (c) => {
      const o = await this.executeWithin(c, orderId, command, meta);
      const body = reply(o);
      const claimed = await c.query('INSERT INTO http_idempotency (key, request_hash, response) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [
        meta.idempotency.key,
        requestHash(meta.idempotency.request),
        JSON.stringify(body),
      ]);
      // Claimed by the same key racing in at the same moment: undo ours, answer with its reply.
      return claimed.rowCount === 0 ? { result: { raced: true as const }, commit: false } : { result: { raced: false as const, body }, commit: true };
    });
    if (outcome.raced) return (await this.replay<T>(meta.idempotency.key, meta.idempotency.request)) as T;
    return outcome.body;
  }

  /**
   * Decide on the order's state (loaded here, or `loaded` when the caller just read it in this
   * transaction) and append in ONE statement (appendToStreamsWithin: no savepoint, no second head
   * read), then the parcel rows and the outbox (one more statement in the service). A lost race
   * is not retried inside: it throws WrongExpectedVersion / OutOfOrderAppend and
   * the whole transaction runs again (a new transaction here, the consumer's batch retry there).
   */
  private async executeWithin(client: SqlClient, orderId: string, command: FulfillmentCommand, meta: CommandMeta, loaded?: { state: FulfillmentState; revision: number }): Promise<Outcome> {
    const { state, revision } = loaded ?? (await this.load(orderId, client));
    let decided: ReturnType<typeof orderFulfillmentDecider.decide>;
    try {
      decided = orderFulfillmentDecider.decide(command, state);
    } catch (error) {
      // The service's own not-started refusal, naming the order: the same answer as a read of it (and as another shop's order).
      if (state.status === 'none' && isDomainError(error) && error.code === 'FULFILLMENT_NOT_STARTED') throw fulfillmentNotStarted(orderId);
      throw error;
    }
    if (decided.length === 0) return { orderId, state, events: [], revision };
    const occurredAt = command.at;
    const ids = decided.map(() => this.newId());
    const [result] = await this.store.appendToStreamsWithin(client, [
      {
        streamId: fulfillmentStream(orderId),
        events: decided.map((e, i) => ({
          eventId: ids[i],
          type: e.type,
          data: e.data,
          metadata: { correlationId: meta.correlationId, causationId: meta.causationId ?? meta.commandId, occurredAt, ...(meta.actor ? { actor: meta.actor } : {}) },
        })),
        expectedRevision: revision < 0 ? 'no_stream' : revision,
      },
    ]);
    const next = fold(orderFulfillmentDecider, decided, state);
    await this.withEvents(
      client,
      orderId,
      shipmentRows(next, result.nextExpectedRevision),
      decided.map((event, i) => ({ eventId: ids[i], occurredAt, event })),
    );
    return { orderId, state: next, events: decided, revision: result.nextExpectedRevision };
  }
}
