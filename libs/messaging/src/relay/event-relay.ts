import { deadLetterTopic, type EventEnvelope } from '@flowline/contracts';
import { comparePositions, guardPool, positionToString, START, type EventFilter, type EventStore, type LogPosition, type RecordedEvent, type Subscription } from '@flowline/eventstore';
import { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff';
import { Headers } from '../kafka/headers';
import type { EventPublisher, OutboundMessage } from '../kafka/publisher';
import { contextFromTraceparent, currentTraceparent, messagingTracer } from '../kafka/tracing';
import { errorMessage, stderrLogger, type MessagingLogger } from '../logger';
import { isInfrastructureError } from '../consumer/errors';
import { relayMetrics } from '../metrics';
import { forgetReadiness, reportReadiness } from '../readiness';
import { PgCheckpointStore, type CheckpointStore } from './checkpoint-store';
import { FencedOut, RelayLease } from './relay-lease';
import { registerRelay, unregisterRelay } from './relay-lag';

/** Where one stored event goes: an integration message on a topic, keyed for per-key order. */
export interface RelayRoute {
  /** Logical topic (`Topics.orderEvents`). */
  topic: string;
  /** Partition key: the order id (or SKU where stock order matters). */
  key: string;
  /** Integration event type (default: the stored type). */
  type?: string;
  /** Integration schema version (default: the stored one). */
  schemaVersion?: number;
  /** Integration payload (default: the stored data). Map it: stored events belong to the service. */
  data?: unknown;
  /**
   * Message id consumers dedupe on (default: the stored event id). Set it when one stored event
   * becomes several messages that one consumer group may read.
   */
  eventId?: string;
  headers?: Record<string, string>;
}

/** Maps a stored event to zero, one or several integration messages. */
export type RelayRouter = (recorded: RecordedEvent) => RelayRoute | RelayRoute[] | null | undefined;

/** Test seams: called at the exact points a crash matters. A hook may kill the process. */
export interface RelayHooks {
  beforePublish?(events: RecordedEvent[]): void | Promise<void>;
  afterPublish?(events: RecordedEvent[]): void | Promise<void>;
  afterCheckpoint?(events: RecordedEvent[], position: LogPosition): void | Promise<void>;
}

export interface EventRelayOptions {
  /** Relay name: the checkpoint row and the metrics label (e.g. `orders`). */
  name: string;
  store: EventStore;
  publisher: EventPublisher;
  route: RelayRouter;
  /** Service database: holds the checkpoint table and, with `exclusive`, the leader lock. */
  pool?: Pool;
  /** Checkpoint table name (default `relay_checkpoints`). */
  checkpointTable?: string;
  /** Custom checkpoint store (instead of `pool` + `checkpointTable`). */
  checkpoints?: CheckpointStore;
  filter?: EventFilter;
  /** Most events per publish (default 500). */
  batchSize?: number;
  /** How long a partial batch waits for more events (default 10 ms). */
  lingerMs?: number;
  /**
   * Least time between two checkpoint writes (default 0: after every published batch). Each write
   * is a WAL-flushing commit; under load the relay publishes many small batches a second, so a
   * service sets this (RELAY_CHECKPOINT_INTERVAL_MS) to write at most a few a second. A batch
   * published inside the interval is checkpointed by a timer at its end, and `stop()` writes the
   * last one. A crash can then publish again up to an interval of events, which consumers absorb
   * (they dedupe by eventId): the at-least-once contract is unchanged, only its window grows.
   */
  checkpointIntervalMs?: number;
  /** Backoff between failed publish or checkpoint attempts (retried without limit). */
  retryBackoff?: BackoffOptions;
  /**
   * Only one replica relays (default true when `pool` is given): the leader holds a lease row with
   * a fencing token (see RelayLease); the others stand by and take over when it expires or is given up.
   */
  exclusive?: boolean;
  /** How often a standby replica tries the lease (default 2 s). */
  standbyPollMs?: number;
  /**
   * Leadership lease (with `exclusive`): the leader renews it every third of this; a leader that
   * stops renewing (frozen, cut off) loses it after this long and a standby takes over with a new
   * fencing token (default 10 s).
   */
  leaseTtlMs?: number;
  /** Pause before restarting after an unexpected failure (default 2 s). */
  restartDelayMs?: number;
  /** How long `stop()` keeps trying to publish what is in hand (default 10 s); the rest is re-sent on the next start. */
  stopTimeoutMs?: number;
  /** Upper bound of the lag probe (events read after the checkpoint on each scrape, default 1,000). */
  lagProbeLimit?: number;
  logger?: MessagingLogger;
  hooks?: RelayHooks;
  /**
   * Where an event that cannot be routed (the route throws on it, e.g. an unknown type met by an
   * old relay during a rolling deploy, or returns a route without topic or key) is parked: its
   * stored form goes to `<parkingTopic>.dlq` with the reason in headers, it is counted
   * (`flowline_relay_parked_total`) and logged as an error, and the relay moves on. Logical topic;
   * default `relay.<name>`.
   */
  parkingTopic?: string;
}

/**
 * A service relay's `checkpointIntervalMs`: RELAY_CHECKPOINT_INTERVAL_MS (0 writes after every
 * batch), default 250 ms - at most four checkpoint commits a second per relay, and a crash
 * republishes at most a quarter second of events.
 */
export function relayCheckpointIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RELAY_CHECKPOINT_INTERVAL_MS;
  if (raw === undefined || raw.trim() === '') return 250;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 60_000) throw new Error(`RELAY_CHECKPOINT_INTERVAL_MS must be an integer from 0 to 60000 (ms), got ${JSON.stringify(raw)}`);
  return n;
}

/** Header names on a parked event (besides the dead-letter ones). */
export const ParkedHeaders = {
  relay: 'dlq.relay',
  position: 'dlq.logPosition',
  streamId: 'dlq.streamId',
} as const;

interface Outgoing {
  message: OutboundMessage;
  span: Span;
  /** Set when the event could not be routed and this message parks it. */
  parked?: string;
}

const DEFAULT_RETRY: BackoffOptions = { initialMs: 200, maxMs: 5_000, factor: 2, jitter: 0.2 };

/**
 * Publishes the event log to Kafka (transactional-outbox pattern with the log as the outbox).
 *
 * Reads every committed event in commit order from its checkpoint, maps it through `route`,
 * publishes in batches with the idempotent producer and advances the checkpoint only after the
 * broker acknowledged the batch. Killed at any point it loses nothing; the batch in flight may be
 * published again after a restart, which consumers absorb (they dedupe by eventId).
 */
export class EventRelay {
  readonly name: string;
  private readonly checkpoints: CheckpointStore;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly retryBackoff: BackoffOptions;
  private readonly logger: MessagingLogger;
  private readonly exclusive: boolean;
  private position: LogPosition = START;
  /**
   * How far the subscription has read while nothing of this relay's was unpublished (onScanned):
   * past `position` when the filter left rows out. lag() counts from here, so a relay whose
   * filter skips most of the log does not rescan the skipped rows on every metrics scrape.
   */
  private scanned: LogPosition | null = null;
  /** A batch taken from `pending` is being published. */
  private publishing = false;
  private pending: RecordedEvent[] = [];
  private flushChain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private subscription: Subscription | null = null;
  private readonly lease: RelayLease | null;
  private renewTimer: NodeJS.Timeout | null = null;
  private standbyTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Bumped on every (re)subscription, so work from an abandoned one is dropped. */
  private generation = 0;
  private state: 'idle' | 'standby' | 'running' | 'stopping' | 'stopped' = 'idle';
  private stopDeadline = Infinity;
  private readonly checkpointIntervalMs: number;
  /** When the checkpoint was last written (ms since epoch). */
  private savedAt = 0;
  /** Published but not yet checkpointed (with `checkpointIntervalMs`): the position and its batch. */
  private unsaved: { position: LogPosition; events: RecordedEvent[]; generation: number } | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: EventRelayOptions) {
    this.name = options.name;
    if (options.checkpoints) this.checkpoints = options.checkpoints;
    else if (options.pool) this.checkpoints = new PgCheckpointStore(options.pool, options.checkpointTable);
    else throw new Error('EventRelay needs `pool` (checkpoint table) or `checkpoints`');
    if (options.pool) guardPool(options.pool);
    this.batchSize = options.batchSize ?? 500;
    this.lingerMs = options.lingerMs ?? 10;
    this.checkpointIntervalMs = Math.max(0, options.checkpointIntervalMs ?? 0);
    this.retryBackoff = options.retryBackoff ?? DEFAULT_RETRY;
    this.logger = options.logger ?? stderrLogger;
    this.exclusive = options.exclusive ?? options.pool !== undefined;
    if (this.exclusive && !options.pool) throw new Error('EventRelay `exclusive` needs `pool`');
    this.lease = this.exclusive && options.pool ? new RelayLease(options.pool, this.name, options.leaseTtlMs ?? 10_000) : null;
  }

  /**
   * The last position the broker acknowledged. The stored checkpoint holds it too, or trails it by
   * at most `checkpointIntervalMs`.
   */
  get checkpoint(): LogPosition {
    return this.position;
  }

  /** 'running' when this replica relays, 'standby' while another one holds the lock. */
  get status(): 'idle' | 'standby' | 'running' | 'stopping' | 'stopped' {
    return this.state;
  }

  /** Starts relaying (or standing by when another replica holds the lock). */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`relay ${this.name} already started`);
    registerRelay(this);
    this.state = 'standby';
    this.position = await this.checkpoints.load(this.name);
    if (this.exclusive) await this.tryLead();
    else await this.subscribe();
  }

  /**
   * Stops reading, publishes what is in hand (within `stopTimeoutMs`), saves the checkpoint and
   * releases the lock. Events not acknowledged by then are published again on the next start.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.stopDeadline = Date.now() + (this.options.stopTimeoutMs ?? 10_000);
    for (const t of [this.standbyTimer, this.restartTimer, this.checkpointTimer]) if (t) clearTimeout(t);
    this.checkpointTimer = null;
    const sub = this.subscription;
    this.subscription = null;
    await sub?.stop();
    await this.flush().catch((e) => this.logger.warn('relay stopped with unpublished events', { relay: this.name, error: errorMessage(e) }));
    // What was published inside the last checkpoint interval (flushOnce saves at once while stopping).
    await this.chain(() => this.saveUnsaved()).catch((e) =>
      this.logger.warn('relay stopped without saving its last checkpoint', { relay: this.name, error: errorMessage(e) }),
    );
    await this.releaseLock();
    unregisterRelay(this);
    forgetReadiness(`relay ${this.name}`);
    this.state = 'stopped';
  }

  /**
   * Events after the checkpoint and the age of the oldest one. Counting is capped by
   * `lagProbeLimit`, so a relay far behind reports the cap.
   */
  async lag(): Promise<{ events: number; seconds: number }> {
    const scanned = this.scanned;
    const events = await this.options.store.readAll({
      after: scanned && comparePositions(scanned, this.position) > 0 ? scanned : this.position,
      maxCount: this.options.lagProbeLimit ?? 1_000,
      filter: this.options.filter,
      // A scrape reports what is final now; it never waits on a long transaction.
      ownWritesTimeoutMs: 0,
    });
    if (events.length === 0) return { events: 0, seconds: 0 };
    const oldest = Date.parse(events[0].metadata.occurredAt);
    return { events: events.length, seconds: Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0 };
  }

  /** Publishes what is buffered now (also called by the linger timer and when a batch fills). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const generation = this.generation;
    return this.chain(() => this.flushOnce(generation));
  }

  /** Runs `work` after every publish and checkpoint write queued before it (one at a time). */
  private chain(work: () => Promise<void>): Promise<void> {
    this.flushChain = this.flushChain.then(work, work);
    return this.flushChain;
  }

  // ---- leadership ----------------------------------------------------------------------------

  private async tryLead(): Promise<void> {
    if (this.state !== 'standby' || !this.lease) return;
    try {
      if (await this.lease.acquire()) {
        if ((this.state as string) !== 'standby') return this.releaseLock();
        this.startRenewing();
        this.position = await this.checkpoints.load(this.name);
        this.logger.info('relay leads', { relay: this.name, token: String(this.lease.token) });
        await this.subscribe();
        return;
      }
    } catch (e) {
      await this.releaseLock();
      this.logger.warn('relay could not take the lease', { relay: this.name, error: errorMessage(e) });
    }
    if (this.state === 'standby') this.standbyTimer = setTimeout(() => void this.tryLead(), this.options.standbyPollMs ?? 2_000);
  }

  /** Renews the lease every third of its TTL; a lost or expired lease stops this replica's relaying. */
  private startRenewing(): void {
    const lease = this.lease;
    if (!lease) return;
    this.stopRenewing();
    this.renewTimer = setInterval(() => {
      void lease.renew().then(
        (ok) => {
          if (!ok) this.fail(new FencedOut(this.name, 0n), 'lease taken over by another replica');
        },
        (e: unknown) => {
          if (!lease.held()) this.fail(e, 'lease expired (could not renew)');
        },
      );
    }, Math.max(100, Math.floor(lease.ttlMs / 3)));
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }

  private async releaseLock(): Promise<void> {
    this.stopRenewing();
    await this.lease?.release();
  }

  // ---- reading and publishing ----------------------------------------------------------------

  private async subscribe(): Promise<void> {
    this.generation++;
    this.pending = [];
    this.scanned = null;
    const generation = this.generation;
    this.state = 'running';
    this.subscription = this.options.store.subscribeToAll({
      after: this.position,
      filter: this.options.filter,
      batchSize: this.batchSize,
      onEvent: (event) => this.onEvent(event, generation),
      onError: (error) => this.fail(error, 'subscription failed'),
      onScanned: (position) => {
        // Only with nothing delivered still unpublished: every matching event up to here is out.
        if (generation === this.generation && this.pending.length === 0 && !this.publishing) this.scanned = position;
      },
    });
  }

  private async onEvent(event: RecordedEvent, generation: number): Promise<void> {
    if (generation !== this.generation || this.state !== 'running') return;
    this.pending.push(event);
    if (this.pending.length >= this.batchSize) {
      // Back-pressure: the subscription waits while a full batch is published.
      await this.flush().catch((e) => this.fail(e, 'publish failed'));
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush().catch((e) => this.fail(e, 'publish failed'));
      }, this.lingerMs);
    }
  }

  private async flushOnce(generation: number): Promise<void> {
    if (generation !== this.generation) return;
    const events = this.pending.splice(0, this.pending.length);
    if (events.length === 0) return;
    this.publishing = true;
    try {
      await this.publishBatch(generation, events);
    } finally {
      this.publishing = false;
    }
  }

  private async publishBatch(generation: number, events: RecordedEvent[]): Promise<void> {
    const outgoing = this.buildMessages(events);
    const last = events[events.length - 1].position;
    // A leader whose lease lapsed (it was frozen, or cut off from its database) publishes nothing more.
    if (this.lease && !this.lease.held()) throw new FencedOut(this.name, this.lease.token ?? 0n);
    try {
      await this.options.hooks?.beforePublish?.(events);
      if (outgoing.length > 0) {
        await this.retrying('publish', generation, () => this.options.publisher.publish(outgoing.map((o) => o.message)));
      }
      for (const o of outgoing) o.span.end();
    } catch (e) {
      for (const o of outgoing) {
        o.span.recordException(e as Error);
        o.span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
        o.span.end();
      }
      throw e;
    }
    const published = relayMetrics.published();
    for (const o of outgoing) {
      if (!o.parked) {
        published.inc({ relay: this.name, topic: o.message.topic });
        continue;
      }
      relayMetrics.parked().inc({ relay: this.name, type: o.message.envelope.type });
      // An alert: an event was left out of the stream its consumers read (see the runbook: npm run dlq).
      this.logger.error('relay parked an unroutable event and moved on', {
        relay: this.name,
        eventId: o.message.envelope.eventId,
        type: o.message.envelope.type,
        streamId: o.message.envelope.streamId,
        topic: o.message.topic,
        reason: o.parked,
      });
    }
    const skipped = events.length - new Set(outgoing.map((o) => o.message.envelope.eventId)).size;
    if (skipped > 0) relayMetrics.skipped().inc({ relay: this.name }, skipped);
    await this.options.hooks?.afterPublish?.(events);

    // The hook (tests) hears of every batch a checkpoint write covers: a deferred write's batches
    // join the next write, by its timer or (timer delayed by a busy event loop) past the interval.
    const covered = this.options.hooks?.afterCheckpoint && this.unsaved?.generation === generation ? [...this.unsaved.events, ...events] : events;
    const wait = this.savedAt + this.checkpointIntervalMs - Date.now();
    if (wait > 0 && this.state === 'running') {
      // Inside the interval: acknowledged, checkpointed by the timer (or by stop()).
      if (generation !== this.generation) return;
      this.position = last;
      this.unsaved = { position: last, events: covered, generation };
      this.checkpointTimer ??= setTimeout(() => {
        this.checkpointTimer = null;
        this.chain(() => this.saveUnsaved()).catch((e) => this.fail(e, 'checkpoint failed'));
      }, wait);
      return;
    }
    await this.saveCheckpoint(generation, last, covered);
  }

  /** Writes the checkpoint a batch inside the interval left unsaved (same subscription only). */
  private async saveUnsaved(): Promise<void> {
    const u = this.unsaved;
    if (!u || u.generation !== this.generation) return;
    await this.saveCheckpoint(u.generation, u.position, u.events);
  }

  private async saveCheckpoint(generation: number, last: LogPosition, events: RecordedEvent[]): Promise<void> {
    let fenced = false;
    await this.retrying('checkpoint', generation, async () => {
      const lease = this.lease;
      if (lease && this.checkpoints.saveFenced) {
        const token = lease.token;
        fenced = token === null || !(await this.checkpoints.saveFenced(this.name, last, lease, token));
      } else {
        await this.checkpoints.save(this.name, last);
      }
    });
    // Another replica took the lease: the checkpoint stays where the current leader put it.
    if (fenced) throw new FencedOut(this.name, this.lease?.token ?? 0n);
    this.savedAt = Date.now();
    // Writes run one at a time in publish order, so this one covers whatever was left unsaved.
    this.unsaved = null;
    if (generation === this.generation) this.position = last;
    await this.options.hooks?.afterCheckpoint?.(events, last);
  }

  private buildMessages(events: RecordedEvent[]): Outgoing[] {
    const tracer = messagingTracer();
    const out: Outgoing[] = [];
    for (const recorded of events) {
      let routes: RelayRoute[];
      try {
        const routed = this.options.route(recorded);
        routes = routed == null ? [] : Array.isArray(routed) ? routed : [routed];
        const bad = routes.find((r) => !r || typeof r.topic !== 'string' || r.topic === '' || typeof r.key !== 'string');
        if (bad) throw new Error(`route returned no topic or key for ${recorded.type}`);
      } catch (e) {
        out.push(this.park(recorded, e));
        continue;
      }
      for (const r of routes) {
        const envelope: EventEnvelope = {
          eventId: r.eventId ?? recorded.eventId,
          type: r.type ?? recorded.type,
          schemaVersion: r.schemaVersion ?? recorded.schemaVersion,
          streamId: recorded.streamId,
          streamPosition: recorded.streamPosition,
          occurredAt: recorded.metadata.occurredAt,
          correlationId: recorded.metadata.correlationId,
          causationId: recorded.metadata.causationId ?? null,
          ...(recorded.metadata.actor ? { actor: recorded.metadata.actor } : {}),
          data: r.data === undefined ? recorded.data : r.data,
        };
        // Continue the trace of the append that stored the event.
        const parent = contextFromTraceparent(recorded.metadata.traceparent);
        const span = tracer.startSpan(
          'relay.publish',
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.operation.type': 'publish',
              'messaging.destination.name': r.topic,
              'messaging.message.id': envelope.eventId,
              'messaging.kafka.message.key': r.key,
              'flowline.relay': this.name,
              'flowline.event.type': envelope.type,
              'flowline.stream.id': recorded.streamId,
            },
          },
          parent,
        );
        out.push({
          span,
          message: {
            topic: r.topic,
            key: r.key,
            envelope,
            headers: r.headers,
            // Consumers continue from the relay's span, not from the append.
            traceparent: currentTraceparent(trace.setSpan(ROOT_CONTEXT, span)),
          },
        });
      }
    }
    return out;
  }

  /** The message that parks an unroutable event in `<parkingTopic>.dlq` (its stored form, the reason in headers). */
  private park(recorded: RecordedEvent, error: unknown): Outgoing {
    const reason = `unroutable: ${errorMessage(error)}`.slice(0, 4_000);
    const topic = deadLetterTopic(this.options.parkingTopic ?? `relay.${this.name}`);
    const span = messagingTracer().startSpan('relay.park', {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'flowline.relay': this.name, 'flowline.event.type': recorded.type },
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    return {
      span,
      parked: reason,
      message: {
        topic,
        key: recorded.streamId,
        envelope: {
          eventId: recorded.eventId,
          type: recorded.type,
          schemaVersion: recorded.schemaVersion,
          streamId: recorded.streamId,
          streamPosition: recorded.streamPosition,
          occurredAt: recorded.metadata.occurredAt,
          correlationId: recorded.metadata.correlationId,
          causationId: recorded.metadata.causationId ?? null,
          data: recorded.data,
        },
        headers: {
          [Headers.dlqError]: reason,
          [Headers.dlqFailedAt]: new Date().toISOString(),
          [Headers.dlqAttempts]: '1',
          [ParkedHeaders.relay]: this.name,
          [ParkedHeaders.position]: positionToString(recorded.position),
          [ParkedHeaders.streamId]: recorded.streamId,
        },
      },
    };
  }

  /** Retries `fn` without limit (a broker or database outage must not lose events) until stopped. */
  private async retrying(what: string, generation: number, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fn();
        if (attempt > 0) reportReadiness(`relay ${this.name}`, true);
        return;
      } catch (e) {
        if (what === 'publish') relayMetrics.publishFailures().inc({ relay: this.name });
        if (isInfrastructureError(e)) reportReadiness(`relay ${this.name}`, false, `${what}: ${errorMessage(e)}`);
        const delay = backoffDelay(attempt, this.retryBackoff);
        if (generation !== this.generation || Date.now() + delay > this.stopDeadline) throw e;
        this.logger.warn(`relay ${what} failed; retrying`, { relay: this.name, attempt: attempt + 1, delayMs: delay, error: errorMessage(e) });
        await sleep(delay);
      }
    }
  }

  /** Unexpected failure: drop what is in hand and resubscribe from the checkpoint after a pause. */
  private fail(error: unknown, what: string): void {
    if (this.state !== 'running') return;
    this.logger.error(`relay ${what}; restarting from the checkpoint`, { relay: this.name, error: errorMessage(error) });
    this.generation++;
    this.pending = [];
    this.scanned = null;
    this.unsaved = null;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = null;
    const sub = this.subscription;
    this.subscription = null;
    this.state = 'standby';
    void (async () => {
      await sub?.stop().catch(() => undefined);
      await this.releaseLock();
      if (this.state !== 'standby') return;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.state !== 'standby') return;
        void (this.exclusive ? this.tryLead() : this.reloadAndSubscribe());
      }, this.options.restartDelayMs ?? 2_000);
    })();
  }

  private async reloadAndSubscribe(): Promise<void> {
    try {
      this.position = await this.checkpoints.load(this.name);
      if (this.state === 'standby') await this.subscribe();
    } catch (e) {
      this.state = 'running';
      this.fail(e, 'restart failed');
    }
  }
}
