import type { Actor } from '@flowline/contracts';

/**
 * Position of an event in the whole log. Two parts so every adapter can express its own order:
 * PostgreSQL: commit = the writing transaction's xid8, prepare = global sequence position;
 * EventStoreDB: its own commit/prepare positions; in-memory: both the sequence number.
 * Order is lexicographic (commit, then prepare).
 */
export interface LogPosition {
  commit: bigint;
  prepare: bigint;
}

export const START: LogPosition = Object.freeze({ commit: -1n, prepare: -1n });

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** Serialises a position for checkpoint tables and Kafka headers. */
export function positionToString(p: LogPosition): string {
  return `${p.commit}/${p.prepare}`;
}

export function positionFromString(s: string): LogPosition {
  const [c, p] = s.split('/');
  return { commit: BigInt(c), prepare: BigInt(p) };
}

/**
 * What the caller expects the stream's last revision to be.
 * - a number: the stream's current last revision (0-based) must equal it;
 * - 'no_stream': the stream must not exist yet;
 * - 'stream_exists': it must exist;
 * - 'any': no check.
 */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

/** Metadata stored with each event (becomes the envelope's metadata fields). */
export interface EventMetadata {
  correlationId: string;
  causationId: string | null;
  occurredAt: string;
  actor?: Actor;
  /** W3C traceparent of the span that appended the event, so the relay can continue the trace. */
  traceparent?: string;
}

/** An event to append. `eventId` makes the append idempotent. */
export interface NewEvent<TData = unknown> {
  eventId: string;
  type: string;
  schemaVersion?: number;
  data: TData;
  metadata: EventMetadata;
}

/** A committed event as read back from the store. */
export interface RecordedEvent<TData = unknown> {
  eventId: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  /** 0-based revision within the stream. */
  streamPosition: number;
  position: LogPosition;
  data: TData;
  metadata: EventMetadata;
}

export interface AppendResult {
  /** Revision of the last event now in the stream (pass it as expectedRevision next time). */
  nextExpectedRevision: number;
  /** Log position of the last appended event. */
  position: LogPosition;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive revision to start from (default: start or end, by direction). */
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position (default START). */
  after?: LogPosition;
  maxCount?: number;
  filter?: EventFilter;
  /**
   * PostgreSQL: how long to wait for events this process committed before the call to become
   * readable while an older transaction of the database still runs (default 2,000 ms; 0 reads what
   * is final now, e.g. a metrics probe). Other adapters read their own writes at once.
   */
  ownWritesTimeoutMs?: number;
}

export interface EventFilter {
  /** Only streams whose id starts with one of these prefixes (e.g. 'order-'). */
  streamPrefixes?: string[];
  /** Only these event types. */
  eventTypes?: string[];
}

export interface SubscribeOptions {
  /** Exclusive checkpoint to resume from (default START). */
  after?: LogPosition;
  filter?: EventFilter;
  /** Called once per committed event, in commit order; the next event waits for the returned promise. */
  onEvent(event: RecordedEvent): Promise<void>;
  /** Called when the subscription fails for good (after the adapter's own retries). */
  onError?(error: unknown): void;
  /** Max events fetched per poll. */
  batchSize?: number;
  /**
   * Called when the subscription moves its cursor past rows its filter left out, once every event
   * before them was handled (onEvent resolved): no event up to `position` is still to come. An
   * adapter that cannot tell never calls it.
   */
  onScanned?(position: LogPosition): void;
}

export interface Subscription {
  /** Resolves once the subscription has stopped delivering. */
  stop(): Promise<void>;
}

/**
 * The event store port. Adapters: PostgreSQL (default), EventStoreDB, in-memory.
 * All pass the same contract suite (libs/eventstore/src/testing/event-store-contract.ts).
 */
export interface EventStore {
  /**
   * Appends atomically. Throws WrongExpectedVersion when the revision check fails.
   * Idempotent: if every event id is already in this stream (from an earlier identical append),
   * returns the same result without writing.
   */
  appendToStream(streamId: string, events: NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Delivers every committed event once, in commit order, never skipping a late-committing transaction. */
  subscribeToAll(options: SubscribeOptions): Subscription;
  close(): Promise<void>;
}

export class WrongExpectedVersion extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`wrong expected version on ${streamId}: expected ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersion';
  }
}

export class StreamNotFound extends Error {
  constructor(readonly streamId: string) {
    super(`stream ${streamId} not found`);
    this.name = 'StreamNotFound';
  }
}

/**
 * An event id is already stored, but not as part of an identical earlier append to this stream
 * (it belongs to another stream, or only some ids of the batch were stored before).
 * Appends are idempotent for a retried identical batch only; anything else is a caller bug.
 */
export class DuplicateEventId extends Error {
  constructor(
    readonly streamId: string,
    readonly eventId: string,
  ) {
    super(`event id ${eventId} is already stored and the append to ${streamId} is not a retry of the same batch`);
    this.name = 'DuplicateEventId';
  }
}

/** Returns the later of two positions. */
export function maxPosition(a: LogPosition, b: LogPosition): LogPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}

/** True when `event` passes `filter` (no filter, or an empty list, lets everything through). */
export function matchesFilter(event: { streamId: string; type: string }, filter?: EventFilter): boolean {
  if (!filter) return true;
  const { streamPrefixes, eventTypes } = filter;
  if (streamPrefixes && streamPrefixes.length > 0 && !streamPrefixes.some((p) => event.streamId.startsWith(p))) return false;
  if (eventTypes && eventTypes.length > 0 && !eventTypes.includes(event.type)) return false;
  return true;
}
