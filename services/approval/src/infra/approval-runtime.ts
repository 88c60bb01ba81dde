import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Topics, type Actor as EnvelopeActor, type EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore, type SqlClient } from '@flowline/eventstore';
import { BackgroundStart, createKafka, ensureTopics, errorMessage, messagingConfigFromEnv, messagingLoggerOf, runConsumer, startOutboxRelay, withKafkaAdmin, type ConsumerHandle, type OutboxRelay } from '@flowline/messaging';
import { PlatformConfig, ulidFactory } from '@flowline/platform';
import type { Runner } from 'graphile-worker';
import type { Kafka } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { toApprovalCommand } from '../api/messaging/approval-commands.consumer';
import { timerKey } from '../application/approval.ports';
import { ApprovalQueries } from '../application/approval.queries';
import { requestCommand } from '../application/approval.requests';
import { ApprovalService, type CommandMeta } from '../application/approval.service';
import { ApprovalClock } from './approval-clock';
import { OrderSnapshots } from '../application/order-snapshots';
import { OrderWatcher } from '../application/order-watcher';
import type { ApprovalCommand } from '../domain/approval.decider';
import { migrateApprovalSchema } from './approval-schema';
import { APPROVAL_STREAM_PREFIXES, approvalRelayRoute } from './approval-relay.routes';
import { approvalSettingsFromEnv, type ApprovalSettings } from './approval-settings';
import { ChainSetFile } from './chain-set.loader';
import { GraphileTimers, migrateTimers, startTimerWorker, type TimerPayload } from './graphile-timers';

const SYSTEM_ACTOR: EnvelopeActor = { kind: 'service', id: 'approval', role: 'system' };

/**
 * How the order watcher batches (exported for its statement-count test): chunks of up to 500
 * messages, the chunks of every partition fetched together in one transaction (up to 9: three
 * topics of three partitions by default), each fetch waiting up to 250 ms for 64 KiB.
 */
export const WATCHER_BATCHING = {
  batch: { maxMessages: 500 },
  groupCommit: { lingerMs: 20 },
  partitionsConsumedConcurrently: 9,
  minBytes: 64 * 1024,
  maxWaitTimeInMs: 250,
} as const;

/**
 * Wires approval's adapters around the platform's DataSource (its pg pool): event store, chain
 * file (hot reload), the consumer of approval.commands.v1, the relay to approval.events.v1 and the
 * graphile-worker timers. Migrations in onModuleInit; consuming, relaying and timers start in
 * onApplicationBootstrap; everything stops in beforeApplicationShutdown.
 */
@Injectable()
export class ApprovalRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly settings: ApprovalSettings = approvalSettingsFromEnv();
  private readonly log = new Logger('approval');
  private readonly ulid = ulidFactory();
  pool!: Pool;
  private events!: PostgresEventStore;
  chains!: ChainSetFile;
  service!: ApprovalService;
  queries!: ApprovalQueries;
  private kafka?: Kafka;
  private outbox?: OutboxRelay;
  private consumer?: ConsumerHandle;
  /** The Kafka side, started in the background (see onApplicationBootstrap). */
  private kafkaSide?: BackgroundStart;
  private watcher?: ConsumerHandle;
  snapshots!: OrderSnapshots;
  private orderWatcher!: OrderWatcher;
  private worker?: Runner;
  clock!: ApprovalClock;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: PlatformConfig,
  ) {}

  newId(): string {
    return this.ulid();
  }

  async onModuleInit(): Promise<void> {
    this.pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    this.clock = new ApprovalClock(this.pool, this.settings.drivenClock);
    this.chains = new ChainSetFile(this.settings.chainsPath, {
      onReload: (s) => this.log.log(`approval chains reloaded: version ${s.version} (${s.hash.slice(0, 12)})`),
      onInvalid: (e) => this.log.error(`approval chains edit refused, previous version stays: ${e.message}`),
    }).watch();
    this.events = await PostgresEventStore.create({ pool: this.pool });
    await migrateApprovalSchema(this.pool);
    if (this.settings.timers) await migrateTimers(this.connectionString(), this.log);
    this.service = new ApprovalService(this.events, new GraphileTimers(), () => this.newId());
    this.queries = new ApprovalQueries(this.pool);
    this.snapshots = new OrderSnapshots(this.pool);
    this.orderWatcher = new OrderWatcher({ service: this.service, snapshots: this.snapshots, now: () => this.clock.now() });
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    if (s.timers) {
      this.worker = await startTimerWorker({
        connectionString: this.connectionString(),
        pollIntervalMs: s.timerPollMs,
        concurrency: s.timerConcurrency,
        fire: (p) => this.fireTimer(p),
        log: this.log,
      });
    }
    const kafkaConfig = this.config.kafka;
    if (!kafkaConfig || !s.messaging) return;
    // In the background, retried until the broker answers: started while Kafka is away, the service
    // boots and answers (readiness red naming what is missing) instead of failing its boot.
    const logger = messagingLoggerOf(this.log);
    this.kafkaSide = new BackgroundStart('approval messaging', { logger, attempt: () => this.startKafka(kafkaConfig.brokers, logger), stopParts: () => this.stopKafka() });
    await this.kafkaSide.begin();
  }

  /** The Kafka side: topics, publisher and relay, the command consumer and the order watcher. */
  private async startKafka(brokers: string[], logger: ReturnType<typeof messagingLoggerOf>): Promise<void> {
    const m = messagingConfigFromEnv();
    const s = this.settings;
    this.kafka = createKafka({ brokers, clientId: 'approval' });
    await withKafkaAdmin(this.kafka, (admin) =>
      ensureTopics(admin, [Topics.approvalCommands, Topics.approvalEvents, Topics.orderEvents, Topics.fulfillmentEvents, Topics.inventoryEvents, Topics.inventoryCommands, Topics.orderCommands], {
        partitions: m.partitions,
        prefix: m.topicPrefix,
      }),
    );
    this.outbox = await startOutboxRelay(this.kafka, {
      name: 'approval',
      topicPrefix: m.topicPrefix,
      store: this.events,
      pool: this.pool,
      filter: { streamPrefixes: APPROVAL_STREAM_PREFIXES },
      route: approvalRelayRoute,
      logger,
    });
    this.consumer = await runConsumer({
      kafka: this.kafka,
      groupId: `${m.topicPrefix}${s.consumerGroup}`,
      topics: [Topics.approvalCommands],
      topicPrefix: m.topicPrefix,
      pool: this.pool,
      maxRetries: 4,
      backoff: { initialMs: 200, maxMs: 5_000 },
      logger,
      // The group is joined in the background: after a crash the rejoin waits for the old member's
      // session to expire (30 s), and the API (health probes included) serves meanwhile.
      awaitJoin: false,
      onFatal: (e) => this.log.error(`approval commands consumer gave up: ${errorMessage(e)}`),
      handler: async (envelope, tx) => this.onCommand(envelope, tx.client),
    });
    // What change requests need to know: the order's current state, packing (freeze), and the
    // stock outcome of a change's own reservation (`chg-<approvalId>`). Off the order's latency
    // path, so it trades latency for fewer commits (issue #10): events it does not keep are
    // acknowledged without a transaction, each fetch waits up to 250 ms for 64 KiB, and the chunks
    // of every partition fetched together commit in one transaction (inbox claims included).
    this.watcher = await runConsumer({
      kafka: this.kafka,
      groupId: `${m.topicPrefix}${s.consumerGroup}.watch`,
      topics: [Topics.orderEvents, Topics.fulfillmentEvents, Topics.inventoryEvents],
      topicPrefix: m.topicPrefix,
      pool: this.pool,
      maxRetries: 4,
      backoff: { initialMs: 200, maxMs: 5_000 },
      logger,
      ...WATCHER_BATCHING,
      acceptType: (type) => OrderWatcher.mayAccept(type),
      accept: (envelope) => this.orderWatcher.accepts(envelope),
      // The group is joined in the background: after a crash the rejoin waits for the old member's
      // session to expire (30 s), and the API (health probes included) serves meanwhile.
      awaitJoin: false,
      onFatal: (e) => this.log.error(`order watcher consumer gave up: ${errorMessage(e)}`),

      handler: async (envelope, tx) => this.orderWatcher.apply(envelope, tx.client),
    });
    this.log.log(`approval running: chains ${this.chains.current().version}, consumer ${s.consumerGroup}, timers ${s.timers ? 'on' : 'off'}`);
  }

  private async stopKafka(): Promise<void> {
    // Each part taken before its stop is awaited: one an attempt still running assigns meanwhile is
    // left for that attempt's own clean-up, never cleared unstopped.
    const { consumer, watcher, outbox } = this;
    this.consumer = this.watcher = undefined;
    this.outbox = undefined;
    await consumer?.stop().catch((e) => this.log.warn(`consumer stop: ${(e as Error).message}`));
    await watcher?.stop().catch((e) => this.log.warn(`watcher stop: ${(e as Error).message}`));
    await outbox?.stop().catch((e) => this.log.warn(`relay stop: ${(e as Error).message}`));
  }

  /** RequestApproval starts the chain the order's rule named; WithdrawApproval withdraws the order's open approvals. */
  private async onCommand(envelope: EventEnvelope, client: SqlClient): Promise<void> {
    const message = toApprovalCommand(envelope);
    if (!message) return;
    const meta: CommandMeta = { correlationId: envelope.correlationId, causationId: envelope.eventId, actor: envelope.actor ?? SYSTEM_ACTOR, now: await this.clock.now() };
    if (message.type === 'RequestApproval') {
      const d = message.data;
      // A second RequestApproval for the same order and chain while one is open (a re-sent command) starts nothing.
      const open = await this.queries.openOf(d.orderId, client as PoolClient);
      for (const id of open) {
        const { state } = await this.service.load(id);
        if (state.status !== 'none' && state.chain === d.chain && state.kind === 'order') return;
      }
      const chains = this.chains.current();
      const approvalId = this.newId();
      const command = requestCommand(chains, { ...d, approvalId, kind: 'order', now: meta.now });
      await this.service.execute(client, approvalId, () => command, meta);
      return;
    }
    for (const id of await this.queries.openOf(message.data.orderId, client as PoolClient)) {
      await this.service.execute(client, id, () => ({ type: 'Withdraw', data: { reason: message.data.reason, now: meta.now } }), meta);
    }
  }

  /** A due timer: Remind / Escalate / Expire the step, and record which instance ran it. */
  private async fireTimer(p: TimerPayload): Promise<void> {
    const now = await this.clock.now();
    const command: ApprovalCommand =
      p.action === 'remind'
        ? { type: 'Remind', data: { step: p.step, attempt: p.attempt, now } }
        : p.action === 'escalate'
          ? { type: 'Escalate', data: { step: p.step, attempt: p.attempt, now } }
          : { type: 'Expire', data: { step: p.step, attempt: p.attempt, now } };
    await this.transaction(async (client) => {
      const r = await this.service.execute(client, p.approvalId, () => command, { correlationId: `timer-${timerKey(p)}`, causationId: null, actor: SYSTEM_ACTOR, now });
      await client.query(`INSERT INTO approval_timer_runs (job_key, instance, outcome) VALUES ($1, $2, $3)`, [timerKey(p), this.settings.instanceId, r.events.map((e) => e.type).join(',') || 'nothing due']);
    });
  }

  /** Runs `fn` in one transaction of the service database. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private connectionString(): string {
    if (!this.config.database) throw new Error('approval needs its database');
    return this.config.database.url;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.chains?.close();
    // An attempt in flight gets a moment to finish; what it starts after that, it stops itself.
    await this.kafkaSide?.stop();
    await this.worker?.stop().catch((e) => this.log.warn(`timer worker stop: ${(e as Error).message}`));
    await this.events?.close().catch(() => undefined);
  }
}
