import { assertAppendable, ChangeSignal, checkExpectedRevision, startPollingSubscription } from '../internal';
import {
  type AppendResult,
  DuplicateEventId,
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
} from '../port';
import { instrumentAppend } from '../telemetry';

/** Round-trips through JSON, as jsonb would: callers never share objects with the store. */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function copyOut(e: RecordedEvent): RecordedEvent {
  return { ...e, position: { ...e.position }, data: jsonCopy(e.data), metadata: jsonCopy(e.metadata) };
}

/**
 * The event store in a process's memory, for fast unit tests. Same semantics as the PostgreSQL
 * adapter (idempotent appends, expected revisions, once-only ordered subscriptions); the log
 * order is the append order and a position is {commit: n, prepare: n} with n counting from 1.
 */
export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly byEventId = new Map<string, RecordedEvent>();
  private readonly changed = new ChangeSignal();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(private readonly options: { pollIntervalMs?: number } = {}) {}

  appendToStream(streamId: string, events: NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    return instrumentAppend('in-memory', streamId, events, async (toStore) => {
      this.assertOpen();
      assertAppendable(streamId, toStore);
      const stream = this.streams.get(streamId) ?? [];

      const retried = this.retriedAppend(streamId, toStore);
      if (retried) return retried;

      checkExpectedRevision(streamId, options?.expectedRevision ?? 'any', stream.length - 1);

      const recorded = toStore.map((e, i): RecordedEvent => {
        const n = BigInt(this.log.length + i + 1);
        return {
          eventId: e.eventId,
          type: e.type,
          schemaVersion: e.schemaVersion ?? 1,
          streamId,
          streamPosition: stream.length + i,
          position: { commit: n, prepare: n },
          data: jsonCopy(e.data),
          metadata: jsonCopy(e.metadata),
        };
      });
      for (const r of recorded) {
        this.log.push(r);
        stream.push(r);
        this.byEventId.set(r.eventId, r);
      }
      this.streams.set(streamId, stream);
      this.changed.notify();
      const last = recorded[recorded.length - 1];
      return { nextExpectedRevision: last.streamPosition, position: last.position };
    });
  }

  /** The result of the earlier identical append, if this batch is a retry of one; else undefined. */
  private retriedAppend(streamId: string, events: NewEvent[]): AppendResult | undefined {
    const found = events.map((e) => this.byEventId.get(e.eventId));
    if (found.every((f) => f === undefined)) return undefined;
    const first = found[0];
    const isRetry =
      first !== undefined &&
      found.every((f, i) => f !== undefined && f.streamId === streamId && f.streamPosition === first.streamPosition + i);
    if (!isRetry) {
      const clash = events.find((e) => this.byEventId.has(e.eventId));
      throw new DuplicateEventId(streamId, clash?.eventId ?? events[0].eventId);
    }
    const last = found[found.length - 1] as RecordedEvent;
    return { nextExpectedRevision: last.streamPosition, position: last.position };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const stream = this.streams.get(streamId) ?? [];
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    let out: RecordedEvent[];
    if (options.direction === 'backwards') {
      const from = options.fromRevision ?? stream.length - 1;
      out = stream.filter((e) => e.streamPosition <= from).reverse();
    } else {
      const from = options.fromRevision ?? 0;
      out = stream.filter((e) => e.streamPosition >= from);
    }
    return out.slice(0, max).map(copyOut);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.page(options.after, options.maxCount ?? Number.MAX_SAFE_INTEGER, options.filter);
  }

  private page(after: LogPosition | undefined, limit: number, filter: ReadAllOptions['filter']): RecordedEvent[] {
    // Positions are 1..n in log order, so the first event after `after` sits at index `after.prepare`.
    const start = after ? Math.max(0, Number(after.prepare)) : 0;
    const out: RecordedEvent[] = [];
    for (let i = start; i < this.log.length && out.length < limit; i++) {
      if (matchesFilter(this.log[i], filter)) out.push(copyOut(this.log[i]));
    }
    return out;
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    this.assertOpen();
    const sub: Subscription = startPollingSubscription(options, {
      poll: async (after, limit, filter) => ({ events: this.page(after, limit, filter) }),
      signal: this.changed,
      pollIntervalMs: this.options.pollIntervalMs ?? 1_000,
      onStopped: () => this.subscriptions.delete(sub),
    });
    this.subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('InMemoryEventStore is closed');
  }
}
