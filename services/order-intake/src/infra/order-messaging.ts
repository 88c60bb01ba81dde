import { Topics } from '@flowline/contracts';
import type { PostgresEventStore } from '@flowline/eventstore';
import {
  backoffDelay,
  BACKGROUND_START_FIRST_WAIT_MS,
  settleBackgroundStart,
  createKafka,
  ensureTopics,
  errorMessage,
  EventPublisher,
  EventRelay,
  forgetReadiness,
  reportReadiness,
  retentionFromEnv,
  runConsumer,
  startRetentionJob,
  sleep,
  withinDeadline,
  type ConsumerHandle,
  type MessagingLogger,
  relayCheckpointIntervalFromEnv,
} from '@flowline/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { ORDER_STREAM_PREFIX } from '../domain/order.events';
import { PROCESS_STREAM_PREFIX } from '../application/order-store.port';
import { routeRecorded } from '../application/order-relay.routes';
import type { ProcessManagerRunner } from '../application/process-manager.runner';
import type { PresaleDeadlineJob } from '../application/presale-deadline.job';
import type { ReservationTimeoutJob } from '../application/reservation-timeout.job';
import { PROCESS_MANAGER_TOPICS, processManagerHandler, reactsTo } from '../api/messaging/process-manager.consumer';

export const PROCESS_MANAGER_GROUP = 'order-intake.process-manager';
export const RELAY_NAME = 'order-intake';
/** Readiness component of the Kafka side (topics, producer, relay). */
export const MESSAGING_COMPONENT = 'order-intake messaging';

/** Topics order-intake writes to or reads from (created with explicit partitions at start). */
export const ORDER_INTAKE_TOPICS = [
  Topics.orderEvents,
  Topics.inventoryCommands,
  Topics.approvalCommands,
  Topics.fulfillmentCommands,
  ...Object.keys(PROCESS_MANAGER_TOPICS),
];

export interface OrderMessagingOptions {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  pool: Pool;
  eventStore: PostgresEventStore;
  runner: ProcessManagerRunner;
  timeoutJob: ReservationTimeoutJob;
  /** Presale (预售) deadlines, on the reservation timer's interval: unpaid balance -> cancel, ship date -> audit. */
  presaleJob?: PresaleDeadlineJob;
  relay: boolean;
  processManager: boolean;
  timeoutScanIntervalMs: number;
  /** Partitions the process manager handles at once (order within a partition always holds). */
  processManagerConcurrency: number;
  logger: MessagingLogger;
  clock?: () => Date;
}

/**
 * The moving parts around Kafka, started after the module is initialised and stopped on
 * shutdown: topics, the relay (log -> orders.events.v1 and the command topics), the process
 * manager consumer (with inbox and dead letters) and the reservation timer.
 */
export class OrderMessaging {
  private kafka: Kafka | null = null;
  private publisher: EventPublisher | null = null;
  private relay: EventRelay | null = null;
  private consumer: ConsumerHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private topicsStep?: Promise<void>;
  private retention?: { stop(): Promise<void> };
  private starting: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(private readonly o: OrderMessagingOptions) {}

  /**
   * Starts the reservation timer at once and the Kafka side (topics, relay, process manager) in
   * the background: HTTP and gRPC serve within seconds of a restart instead of waiting for the
   * consumer group to rebalance (kafkajs joins in the background too). Until topics, producer and
   * relay are up the `order-intake messaging` component reports not ready; an unreachable broker
   * or database is retried with backoff.
   */
  async start(): Promise<void> {
    const o = this.o;
    if (o.timeoutScanIntervalMs > 0) {
      const clock = o.clock ?? (() => new Date());
      this.timer = setInterval(() => {
        this.scanning = this.scanning
          .then(() => o.timeoutJob.runOnce(clock().toISOString()))
          .catch((e: unknown) => o.logger.warn('reservation timer scan failed', { error: String(e) }))
          .then(() => o.presaleJob?.runOnce(clock().toISOString()))
          .catch((e: unknown) => o.logger.warn('presale timer scan failed', { error: String(e) }));
      }, o.timeoutScanIntervalMs);
      this.timer.unref();
    }
    // Inbox rows and Idempotency-Key replies are pruned by age (INBOX_RETENTION_DAYS, IDEMPOTENCY_RETENTION_DAYS).
    const retention = retentionFromEnv();
    this.retention = startRetentionJob(
      o.pool,
      [
        { table: 'messaging_inbox', column: 'processed_at', days: retention.inboxDays },
        { table: 'idempotency_keys', column: 'created_at', days: retention.idempotencyDays },
      ],
      retention.intervalMs,
      o.logger,
    );
    if (!(o.relay || o.processManager)) return;
    reportReadiness(MESSAGING_COMPONENT, false, 'starting: topics, producer and relay');
    // Topics first, briefly awaited (clients that subscribe right after boot find them); an
    // unreachable broker does not hold the boot: the background below keeps trying.
    this.kafka = createKafka({ brokers: o.brokers, clientId: 'order-intake' });
    await settleBackgroundStart(this.ensureTopicsOnce().catch(() => undefined), BACKGROUND_START_FIRST_WAIT_MS);
    this.starting = (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.startKafka();
          reportReadiness(MESSAGING_COMPONENT, true);
          return;
        } catch (e) {
          reportReadiness(MESSAGING_COMPONENT, false, errorMessage(e));
          o.logger.warn('order-intake messaging could not start; retrying', { attempt: attempt + 1, error: errorMessage(e) });
          if (!(await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 }), this.abort.signal))) return;
        }
      }
    })();
  }

  /** Creates the topics (once; a failed attempt is forgotten so the next one tries again). */
  private ensureTopicsOnce(): Promise<void> {
    const kafka = this.kafka;
    if (!kafka) return Promise.reject(new Error('no Kafka client'));
    const o = this.o;
    this.topicsStep ??= (async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, ORDER_INTAKE_TOPICS, { partitions: o.partitions, prefix: o.topicPrefix });
      } finally {
        await admin.disconnect();
      }
    })().catch((e: unknown) => {
      this.topicsStep = undefined;
      throw e;
    });
    return this.topicsStep;
  }

  /** Each step once: a retry after a failure goes on from where it stopped. */
  private async startKafka(): Promise<void> {
    const o = this.o;
    this.kafka ??= createKafka({ brokers: o.brokers, clientId: 'order-intake' });
    await this.ensureTopicsOnce();
    if (o.relay && !this.relay) {
      if (!this.publisher) {
        const publisher = new EventPublisher({ kafka: this.kafka, topicPrefix: o.topicPrefix });
        await publisher.connect();
        this.publisher = publisher;
      }
      const relay = new EventRelay({
        name: RELAY_NAME,
        checkpointIntervalMs: relayCheckpointIntervalFromEnv(),
        store: o.eventStore,
        publisher: this.publisher,
        pool: o.pool,
        filter: { streamPrefixes: [ORDER_STREAM_PREFIX, PROCESS_STREAM_PREFIX] },
        logger: o.logger,
        route: (recorded) => routeRecorded(recorded),
        // An event this build cannot map (a newer type in a rolling deploy) is parked, not a stop.
        parkingTopic: Topics.orderEvents,
      });
      await relay.start();
      this.relay = relay;
    }
    if (o.processManager && !this.consumer && !this.stopped) {
      this.consumer = await runConsumer({
        // The topic prefix isolates environments (and test files) sharing a broker: their
        // consumer groups must be apart too, or members subscribed to other topics share it.
        groupId: `${o.topicPrefix}${PROCESS_MANAGER_GROUP}`,
        topics: Object.keys(PROCESS_MANAGER_TOPICS),
        pool: o.pool,
        kafka: this.kafka,
        topicPrefix: o.topicPrefix,
        logger: o.logger,
        // Safe in parallel: each reaction re-reads the order and appends with its revision, so
        // two partitions touching one order (orders and inventory events) serialise on the stream.
        partitionsConsumedConcurrently: o.processManagerConcurrency,
        // Group commit: up to 64 messages of a partition (distinct orders) per transaction, one
        // WAL flush instead of 64; events the process does not react to (stock levels, ATP,
        // approval steps) are acknowledged by type without a transaction, inbox row or load.
        batch: { maxMessages: 64 },
        // ... and the chunks of the partitions handled at once share that transaction (one
        // COMMIT, one WAL flush for up to 64 reactions of up to 4 partitions).
        groupCommit: { lingerMs: 2 },
        // Filtered on the type header before the JSON is even parsed (stock levels and ATP are
        // most of inventory.events.v1), and again on the envelope for a message without it.
        acceptType: (type, topic) => reactsTo(topic, type),
        accept: (envelope, topic) => reactsTo(topic, envelope.type),
        handler: processManagerHandler(o.runner),
        // The group is joined in the background (a rejoin after a crash waits for the old
        // member's session to expire); the API serves meanwhile.
        awaitJoin: false,
        onFatal: (e) => o.logger.error('process manager consumer gave up', { error: errorMessage(e) }),
      });
    }
  }

  /** Resolves once the Kafka side started (tests; the service itself never waits for it). */
  async ready(): Promise<void> {
    await this.starting;
    await this.consumer?.joined;
  }

  /**
   * Stops every part, each step timed and bounded by {@link STOP_BOUNDS_MS}, so the whole stays well
   * under SHUTDOWN_TIMEOUT_MS whatever Kafka or PostgreSQL do meanwhile (issue #18; the 30 s stop seen
   * in the rolling restart was the HTTP close, see libs/platform bootstrap.ts boundHttpClose). A step past its bound goes on unawaited: unapplied messages are redelivered
   * to the group, unpublished events are relayed from the checkpoint on the next start.
   * `step` is the platform's ShutdownSteps.run (one log line of all steps at the end of the stop).
   */
  async stop(step: StopStep = boundOnly): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    // What could still start Kafka work or use the pool, side by side.
    const [, , started] = await Promise.all([
      step('retention job stop', () => this.retention?.stop(), STOP_BOUNDS_MS.retention),
      step('timer scan (reservations, presale)', () => this.scanning, STOP_BOUNDS_MS.scan),
      step('Kafka start in progress', () => this.starting, STOP_BOUNDS_MS.starting),
    ]);
    forgetReadiness(MESSAGING_COMPONENT);
    if (!started) {
      // A start still running past its bound may create the relay or the consumer after this stop
      // has passed them: those are stopped when it ends.
      const stoppedNow = { consumer: this.consumer, relay: this.relay, publisher: this.publisher };
      void this.starting.then(() =>
        this.stopKafkaParts(boundOnly, {
          consumer: this.consumer === stoppedNow.consumer ? null : this.consumer,
          relay: this.relay === stoppedNow.relay ? null : this.relay,
          publisher: this.publisher === stoppedNow.publisher ? null : this.publisher,
        }),
      );
    }
    await this.stopKafkaParts(step, { consumer: this.consumer, relay: this.relay, publisher: this.publisher });
  }

  /** The consumer (its own dead-letter producer) and the relay (the shared publisher) do not depend on each other: side by side, then the publisher. */
  private async stopKafkaParts(
    step: StopStep,
    parts: { consumer: ConsumerHandle | null; relay: EventRelay | null; publisher: EventPublisher | null },
  ): Promise<void> {
    await Promise.all([
      parts.consumer && step('process-manager consumer stop', () => parts.consumer?.stop(), STOP_BOUNDS_MS.consumer),
      parts.relay && step('relay stop', () => parts.relay?.stop(), STOP_BOUNDS_MS.relay),
    ]);
    if (parts.publisher) await step('relay publisher disconnect', () => parts.publisher?.disconnect(), STOP_BOUNDS_MS.publisher);
  }
}

/** Runs one part of a stop within `boundMs`; true when it settled in time (the platform's ShutdownSteps.run times it too). */
export type StopStep = (step: string, work: () => unknown, boundMs: number) => Promise<boolean>;

const boundOnly: StopStep = (_step, work, boundMs) => withinDeadline(Promise.resolve().then(work), boundMs);

/**
 * Bounds of OrderMessaging's stop steps. The three first run side by side, then consumer and relay
 * side by side, then the publisher: at most 5 + 6 + 3 = 14 s, under SHUTDOWN_TIMEOUT_MS (25 s)
 * with room for the HTTP drain and the pools. The consumer's own stop gives LeaveGroup 5 s; the
 * relay's keeps publishing what is in hand until its bound.
 */
export const STOP_BOUNDS_MS = { retention: 2_000, scan: 5_000, starting: 5_000, consumer: 6_000, relay: 6_000, publisher: 3_000 } as const;
