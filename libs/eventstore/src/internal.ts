import {
  comparePositions,
  type EventFilter,
  type ExpectedRevision,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
  START,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedVersion,
} from './port';

/** Rejects appends no adapter can store: no events, or one event id twice in the batch. */
export function assertAppendable(streamId: string, events: NewEvent[]): void {
  if (!streamId) throw new RangeError('streamId must not be empty');
  if (events.length === 0) throw new RangeError(`append to ${streamId}: no events`);
  const ids = new Set<string>();
  for (const e of events) {
    if (!e.eventId) throw new RangeError(`append to ${streamId}: an event has no eventId`);
    if (ids.has(e.eventId)) throw new RangeError(`append to ${streamId}: event id ${e.eventId} appears twice in one batch`);
    ids.add(e.eventId);
  }
}

/**
 * Throws WrongExpectedVersion unless `expected` admits a stream whose last revision is `current`
 * (-1 when the stream does not exist).
 */
export function checkExpectedRevision(streamId: string, expected: ExpectedRevision, current: number): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === -1) ||
    (expected === 'stream_exists' && current >= 0) ||
    (typeof expected === 'number' && expected === current);
  if (!ok) throw new WrongExpectedVersion(streamId, expected, current === -1 ? 'no_stream' : current);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A "something may have changed" signal with a version counter, so a poller that read version v
 * before querying never sleeps through a change that arrived while it was querying.
 */
export class ChangeSignal {
  private version = 0;
  private readonly waiters = new Set<() => void>();

  get current(): number {
    return this.version;
  }

  notify(): void {
    this.version++;
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when the version moves past `since`, after `ms`, or on abort, whichever comes first. */
  wait(since: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.version !== since || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** One page of a subscription's poll. */
export interface PollPage {
  /** Events strictly after the cursor, in log order, at most `limit`. */
  events: RecordedEvent[];
  /**
   * When fewer than `limit` events came back: a position up to which the log is known to be
   * final and fully scanned (filtered-out events included), so the next poll can start there.
   * It must be the position of an event that exists (durably), never a bound computed from the
   * server's state: the cursor keeps it, and a bound can move back under it (PostgreSQL after a
   * crash hands out transaction ids again; docs/adr/0003).
   */
  scannedTo?: LogPosition;
  /**
   * An append this process saw commit is not readable yet (an older transaction still runs and
   * holds the horizon): the loop looks again after a short pause instead of a whole poll interval.
   */
  retrySoon?: boolean;
}

export interface PollingSubscriptionDeps {
  poll(after: LogPosition, limit: number, filter: EventFilter | undefined): Promise<PollPage>;
  signal: ChangeSignal;
  pollIntervalMs: number;
  /**
   * Least time from the start of one poll to the start of the next one a wake-up triggers
   * (default 0). Every commit in the process wakes its subscriptions; under load that is a log
   * read per commit, most of them finding one transaction's events. With a gap, the commits of
   * those few milliseconds are read together. A full page is read on at once regardless.
   */
  minReadGapMs?: number;
  /** Consecutive failed polls tolerated (with backoff) before the subscription gives up. */
  maxPollFailures?: number;
  /** Called when the subscription stops, after its last delivery. */
  onStopped?(): void;
}

/**
 * The delivery loop shared by the PostgreSQL and in-memory adapters: poll after the cursor,
 * hand each event to onEvent and await it, advance the cursor, sleep until a change signal or
 * the poll interval. A failing onEvent stops the subscription without advancing past that event,
 * so resuming from the last delivered position redelivers it.
 */
export function startPollingSubscription(options: SubscribeOptions, deps: PollingSubscriptionDeps): Subscription {
  const abort = new AbortController();
  const batchSize = options.batchSize ?? 500;
  const maxFailures = deps.maxPollFailures ?? 20;
  let stopped = false;

  const fail = (error: unknown) => {
    stopped = true;
    if (options.onError) options.onError(error);
    else console.error('event store subscription stopped', error);
  };

  const loop = async () => {
    let cursor: LogPosition = options.after ?? START;
    let failures = 0;
    let quickMs = 2;
    let polledAt = 0;
    while (!stopped) {
      const seen = deps.signal.current;
      let page: PollPage;
      polledAt = Date.now();
      try {
        page = await deps.poll(cursor, batchSize, options.filter);
        failures = 0;
      } catch (error) {
        if (stopped) break;
        failures++;
        if (failures > maxFailures) {
          fail(error);
          break;
        }
        await sleep(Math.min(5_000, 50 * 2 ** failures), abort.signal);
        continue;
      }
      for (const event of page.events) {
        if (stopped) break;
        try {
          await options.onEvent(event);
        } catch (error) {
          fail(error);
          break;
        }
        cursor = event.position;
      }
      if (stopped) break;
      if (page.events.length < batchSize) {
        if (page.scannedTo && comparePositions(page.scannedTo, cursor) > 0) {
          cursor = page.scannedTo;
          options.onScanned?.(cursor);
        }
        if (page.retrySoon) {
          // 2, 4, 8 ... 64 ms while the horizon lags a commit we know of; never longer than the poll.
          await deps.signal.wait(seen, Math.min(quickMs, deps.pollIntervalMs), abort.signal);
          quickMs = Math.min(64, quickMs * 2);
          continue;
        }
        quickMs = 2;
        await deps.signal.wait(seen, deps.pollIntervalMs, abort.signal);
        const gap = (deps.minReadGapMs ?? 0) - (Date.now() - polledAt);
        if (gap > 0 && !stopped) await sleep(gap, abort.signal);
      }
    }
  };

  const done = loop()
    .catch(fail)
    .finally(() => deps.onStopped?.());
  return {
    async stop() {
      stopped = true;
      abort.abort();
      await done;
    },
  };
}
