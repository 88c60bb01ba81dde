import type { Channel, OrderStage } from '@flowline/contracts';
import type { ExpectedRevision, NewEvent, RecordedEvent, SqlClient } from '@flowline/eventstore';
import type { OrderState } from '../domain/order.state';
import type { Prefetch } from './idempotency';

/** The order stream as read: its folded state and the revision to pass as expected next time. */
export interface LoadedOrder {
  state: OrderState;
  /** Last revision of `order-<id>`, or 'no_stream'. */
  revision: number | 'no_stream';
  events: RecordedEvent[];
}

/** One change to commit atomically: the order's new events and what the service keeps beside them. */
export interface OrderChange {
  orderId: string;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
  /** The order after the events (written to the read table in the same transaction). */
  stateAfter: OrderState;
  /** First append of a channel order: claim (channel, channelOrderId) in the same transaction. */
  claim?: { channel: Channel; channelOrderId: string };
  /** Outgoing commands for other contexts (outbox entries of stream `process-<orderId>`). */
  outbox?: NewEvent[];
  /**
   * A lost race (WrongExpectedVersion) may surface when the caller's transaction commits instead of
   * from `commit` (the store may then send the append with the COMMIT): true where the caller would
   * only pass the error on to the owner of the transaction, who runs the whole request again.
   */
  conflictAtCommit?: boolean;
}

/** A row of the orders read table (what lists and the timeout scheduler read). */
export interface OrderSummary {
  orderId: string;
  channel: Channel;
  channelOrderId: string;
  shopId: string;
  stage: OrderStage;
  onHold: boolean;
  inException: boolean;
  grandTotal: number;
  currency: string;
  placedAt: string;
  updatedAt: string;
  revision: number;
  /** Since when the order could move on (for the reservation timeout). */
  movableSince: string;
  reserved: boolean;
  /** Presale: the next deadline the presale timer acts on (ISO), or null. */
  presaleNextAt?: string | null;
  /** Waiting for stock (缺货): the SKUs it was short of (order-summary.ts shortSkusOf), or null. */
  shortSkus?: string[] | null;
}

export interface ListOrdersFilter {
  channel?: Channel;
  stages?: OrderStage[];
  shopId?: string;
  flag?: 'on_hold' | 'exception';
  /** Exclusive: orders with an id below this one (ids are ULIDs: newest first). */
  beforeOrderId?: string;
  limit: number;
}

/**
 * Where orders live: the event store plus order-intake's own tables (read table, channel-order
 * claims, outbox stream). `commit` is atomic; with `tx` it joins a transaction the caller opened
 * (the process manager's consumer transaction, which also holds the inbox row, or a request's,
 * which also holds its Idempotency-Key row).
 */
export interface OrderStore {
  /**
   * With `tx`: read on that transaction's connection (a command decides and appends on one
   * connection), and the order's outbox stream is locked for the rest of the transaction in the
   * same round trip (its append then needs no lock statement of its own).
   */
  load(orderId: string, tx?: SqlClient): Promise<LoadedOrder>;
  /**
   * `load` with `tx` as a read the Idempotency-Key round trip runs after taking the key's lock
   * (no round trip of its own); absent where the store has no SQL (in memory).
   */
  loadPrefetch?(orderId: string): Prefetch<LoadedOrder>;
  /** Throws WrongExpectedVersion, or ChannelOrderTaken when the claim exists (nothing is written). */
  commit(change: OrderChange, tx?: SqlClient): Promise<{ revision: number }>;
  /** Appends outgoing commands only (no order change). */
  appendOutbox(orderId: string, events: NewEvent[], tx?: SqlClient): Promise<void>;
  findByChannelOrder(channel: Channel, channelOrderId: string, tx?: SqlClient): Promise<string | null>;
  /**
   * Inside the caller's transaction, before the order's first append: claims (channel, channel
   * order id) for `orderId` in one statement, or names the order that holds it. `owner: null`: a
   * concurrent claim committed after this statement's snapshot; roll back and run again.
   */
  claimChannelOrder(channel: Channel, channelOrderId: string, orderId: string, tx: SqlClient): Promise<{ claimed: true } | { claimed: false; owner: string | null }>;
  list(filter: ListOrdersFilter): Promise<OrderSummary[]>;
  /** Paid orders not reserved, not flagged, waiting since before `before` (ISO). */
  awaitingStockSince(before: string, limit: number): Promise<OrderSummary[]>;
  /** Presale orders whose next presale deadline (balance due by / ship date) is at or before `now` (ISO), oldest first. */
  presaleDue(now: string, limit: number): Promise<OrderSummary[]>;
  /**
   * Delivered orders, not flagged, movable since at or before `before` (ISO), oldest first; `after`
   * continues past the last row of the previous page (the after-sales archive scan).
   */
  deliveredSince(before: string, limit: number, after?: { movableSince: string; orderId: string }): Promise<OrderSummary[]>;
  /**
   * Orders waiting for stock (缺货), first placed first (by placed at, then id); with `sku`, those
   * short of that SKU; `after` continues past the last row of the previous page.
   */
  waitingForStock(f: { sku?: string; limit: number; after?: { placedAt: string; orderId: string } }): Promise<OrderSummary[]>;
  /** Clears a waiting row whose stream says the order no longer waits, unless the order moved on since (`revision`). */
  clearShortSkus(orderId: string, revision: number): Promise<void>;
  /** Lists again, from the streams, waiting orders whose row says nothing (migration v2's backfill); absent in memory. */
  relistWaiting?(): Promise<void>;
}

/** The (channel, channel order id) is already an order: the caller returns that one. */
export class ChannelOrderTaken extends Error {
  constructor(
    readonly channel: string,
    readonly channelOrderId: string,
  ) {
    super(`${channel} order ${channelOrderId} is already an order`);
    this.name = 'ChannelOrderTaken';
  }
}

/** Stream of the outgoing commands (outbox) of one order. */
export const processStreamId = (orderId: string): string => `process-${orderId}`;
export const PROCESS_STREAM_PREFIX = 'process-';
