import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  EventStoreDBClient,
  type EventType,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
  START as ESDB_START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { assertAppendable } from '../internal';
import {
  type AppendResult,
  comparePositions,
  type EventFilter,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type LogPosition,
  matchesFilter,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedVersion,
} from '../port';
import { instrumentAppend } from '../telemetry';

/** Position reported when the server gave none (never happens on $all reads of a current server). */
const UNKNOWN_POSITION: LogPosition = Object.freeze({ commit: -1n, prepare: -1n });

type StoredMetadata = EventMetadata & { schemaVersion?: number; $correlationId?: string; $causationId?: string };

function toEsdbRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return BigInt(expected);
}

function toEsdbPosition(p: LogPosition | undefined): Position | typeof ESDB_START {
  return !p || p.commit < 0n ? ESDB_START : { commit: p.commit, prepare: p.prepare };
}

/** System events ($-prefixed types or streams) are EventStoreDB's own, never ours. */
function isSystem(e: { type: string; streamId: string }): boolean {
  return e.type.startsWith('$') || e.streamId.startsWith('$');
}

function toRecorded(e: EsdbRecordedEvent<EventType>): RecordedEvent {
  const raw = (e.isJson && e.metadata && !(e.metadata instanceof Uint8Array) ? e.metadata : {}) as unknown as StoredMetadata;
  // The $-fields are EventStoreDB's conventions, written for its projections; not part of ours.
  const { schemaVersion, $correlationId: _c, $causationId: _k, ...metadata } = raw;
  return {
    eventId: e.id,
    type: e.type,
    schemaVersion: schemaVersion ?? 1,
    streamId: e.streamId,
    streamPosition: Number(e.revision),
    position: e.position ? { commit: e.position.commit, prepare: e.position.prepare } : UNKNOWN_POSITION,
    data: e.data,
    metadata: metadata as EventMetadata,
  };
}

/**
 * The event store on EventStoreDB (gRPC client @eventstore/db-client). Revisions, positions and
 * optimistic concurrency are the server's own; appends are idempotent by event id as the server
 * dedupes them, and a retry the server answers with WrongExpectedVersion is recognised by
 * reading the stream back.
 *
 * Differences from the PostgreSQL adapter: an event id may be reused in another stream (the
 * server dedupes per stream), and filters on both stream prefixes and event types are applied
 * server-side for one and client-side for the other.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    readonly client: EventStoreDBClient,
    private readonly ownsClient = false,
  ) {}

  /** e.g. `esdb://localhost:2113?tls=false` */
  static connect(connectionString: string): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString), true);
  }

  appendToStream(streamId: string, events: NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    return instrumentAppend('eventstoredb', streamId, events, async (toStore) => {
      assertAppendable(streamId, toStore);
      const expected = options?.expectedRevision ?? 'any';
      const data = toStore.map((e) =>
        jsonEvent({
          id: e.eventId,
          type: e.type,
          data: e.data as Record<string, unknown>,
          metadata: {
            ...e.metadata,
            schemaVersion: e.schemaVersion ?? 1,
            $correlationId: e.metadata.correlationId,
            ...(e.metadata.causationId ? { $causationId: e.metadata.causationId } : {}),
          },
        }),
      );
      try {
        const result = await this.client.appendToStream(streamId, data, { expectedRevision: toEsdbRevision(expected) });
        const revision = Number(result.nextExpectedRevision);
        const position = result.position
          ? { commit: result.position.commit, prepare: result.position.prepare }
          : await this.positionOf(streamId, revision);
        return { nextExpectedRevision: revision, position };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        const retried = await this.retriedAppend(streamId, toStore);
        if (retried) return retried;
        const actual = error.actualVersion === NO_STREAM ? 'no_stream' : Number(error.actualVersion);
        throw new WrongExpectedVersion(streamId, expected, actual);
      }
    });
  }

  /** When every id of the batch sits in the stream consecutively, the result of that earlier append. */
  private async retriedAppend(streamId: string, events: NewEvent[]): Promise<AppendResult | undefined> {
    const stream = await this.readStream(streamId);
    const start = stream.findIndex((e) => e.eventId === events[0].eventId);
    if (start < 0) return undefined;
    const matches = events.every((e, i) => stream[start + i]?.eventId === e.eventId);
    if (!matches) return undefined;
    const last = stream[start + events.length - 1];
    return { nextExpectedRevision: last.streamPosition, position: last.position };
  }

  private async positionOf(streamId: string, revision: number): Promise<LogPosition> {
    const [event] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    return event?.position ?? UNKNOWN_POSITION;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : ESDB_START,
        ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      });
      for await (const resolved of read) if (resolved.event) out.push(toRecorded(resolved.event));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const after = options.after;
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    // The server reads $all from a position inclusively and filters only subscriptions, so the
    // read skips the `after` event and applies the filter here, stopping once it has enough.
    const read = this.client.readAll({ direction: FORWARDS, fromPosition: toEsdbPosition(after) });
    try {
      for await (const resolved of read) {
        const e = resolved.event;
        if (!e || isSystem(e)) continue;
        const recorded = toRecorded(e);
        if (after && comparePositions(recorded.position, after) <= 0) continue;
        if (!matchesFilter(recorded, options.filter)) continue;
        out.push(recorded);
        if (out.length >= limit) break;
      }
    } finally {
      if (!read.readableEnded) await read.cancel().catch(() => undefined);
    }
    return out;
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    const after = options.after;
    const subscription = this.client.subscribeToAll({
      fromPosition: toEsdbPosition(after),
      filter: serverFilter(options.filter),
    });
    let stopped = false;
    const done = (async () => {
      try {
        // for-await pulls the next event only after onEvent's promise settles (backpressure).
        for await (const resolved of subscription) {
          if (stopped) break;
          const e = resolved.event;
          if (!e || isSystem(e)) continue;
          const recorded = toRecorded(e);
          if (after && comparePositions(recorded.position, after) <= 0) continue;
          if (!matchesFilter(recorded, options.filter)) continue;
          await options.onEvent(recorded);
        }
      } catch (error) {
        if (!stopped) {
          stopped = true;
          if (options.onError) options.onError(error);
          else console.error('event store subscription stopped', error);
        }
      } finally {
        await subscription.unsubscribe().catch(() => undefined);
      }
    })();
    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        await subscription.unsubscribe().catch(() => undefined);
        await done;
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    if (this.ownsClient) await this.client.dispose();
  }
}

/** One server-side filter (the server takes one); the rest is checked client-side. */
function serverFilter(filter: EventFilter | undefined) {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: filter.streamPrefixes });
  if (filter?.eventTypes?.length) return eventTypeFilter({ prefixes: filter.eventTypes });
  return excludeSystemEvents();
}
