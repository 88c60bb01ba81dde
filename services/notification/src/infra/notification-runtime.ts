import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Topics } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { BackgroundStart, createKafka, DEFAULT_INBOX_TABLE, ensureTopics, errorMessage, groupHasOffsets, messagingLoggerOf, retentionFromEnv, runConsumer, startOutboxRelay, startRetentionJob, TopicNames, withKafkaAdmin, type ConsumerHandle, type OutboxRelay, type RetentionRule } from '@flowline/messaging';
import { PlatformConfig, ulidFactory } from '@flowline/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { drivenClock, systemClock, type Clock } from '../application/clock';
import { Dispatcher } from '../application/dispatcher';
import { NOTIFICATION_STREAM_PREFIX, notificationEvent, notificationStream, refOf } from '../application/notification-events';
import { demoContactFromEnv, FACT_EVENT_TYPES, mayConcernAnOrder, NotificationIntake } from '../application/notification-intake';
import { channelAdaptersFromEnv } from './channel-adapters';
import type { ChannelAdapter } from './channels/channel.port';
import type { EmailAdapter } from './channels/email.adapter';
import { loadNotificationConfig, type NotificationConfig } from './notification-config';
import { notificationSettingsFromEnv, type NotificationSettings } from './notification-settings';
import { migrateNotification, NotificationStore } from './notification-store';
import { notificationMetrics } from './notification.metrics';

/** Topics whose events may trigger a notification. */
/** What the shared retention job (libs/messaging) prunes here by age: the consumer inbox (INBOX_RETENTION_DAYS, default 30). */
export function notificationRetentionRules(env: NodeJS.ProcessEnv = process.env): RetentionRule[] {
  const r = retentionFromEnv(env);
  return [
    { table: DEFAULT_INBOX_TABLE, column: 'processed_at', days: r.inboxDays },
    { table: 'notification.http_idempotency', column: 'created_at', days: r.idempotencyDays },
  ];
}

export const CONSUMED_TOPICS = [Topics.orderEvents, Topics.approvalEvents, Topics.fulfillmentEvents, Topics.inventoryEvents, Topics.trackingEvents];

/**
 * Wires notification around the platform's pg pool: migrations, rules/templates, the consumer
 * (events -> notifications, inbox in the same transaction), the dispatcher (notifications ->
 * adapters) and the relay of NotificationSent/Failed/Suppressed to notification.events.v1.
 */
@Injectable()
export class NotificationRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly settings: NotificationSettings = notificationSettingsFromEnv();
  private readonly log = new Logger('notification');
  private readonly ulid = ulidFactory();
  pool!: Pool;
  events!: PostgresEventStore;
  clock!: Clock;
  config!: NotificationConfig;
  intake!: NotificationIntake;
  dispatcher!: Dispatcher;
  email?: EmailAdapter;
  /** The SMS adapter, for one-time messages sent without a notification row (portal codes). */
  sms?: ChannelAdapter;
  private kafka?: Kafka;
  private interestingFor?: { config: NotificationConfig; types: ReadonlySet<string> };
  private consumer?: ConsumerHandle;
  private outbox?: OutboxRelay;
  /** The Kafka side, started in the background (see onApplicationBootstrap). */
  private kafkaSide?: BackgroundStart;
  private retention?: { stop(): Promise<void> };

  constructor(
    private readonly dataSource: DataSource,
    private readonly platform: PlatformConfig,
  ) {}

  newId(): string {
    return this.ulid();
  }

  async onModuleInit(): Promise<void> {
    this.pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    // Bad rules or templates stop the boot with the file and every problem named.
    this.config = loadNotificationConfig();
    await migrateNotification(this.pool);
    this.events = await PostgresEventStore.create({ pool: this.pool });
    this.clock = this.settings.clock === 'driven' ? drivenClock(this.pool) : systemClock;
    const { adapters, email } = channelAdaptersFromEnv(this.pool, () => this.config.staff, this.config.templates.emailLayout ?? '<html><body><h3>{{subject}}</h3><p>{{body}}</p></body></html>');
    this.email = email;
    this.sms = adapters.sms;
    const demoContact = demoContactFromEnv(process.env.NOTIFICATION_DEMO_CONTACT);
    this.intake = new NotificationIntake({ config: () => this.config, events: this.events, clock: this.clock, newId: () => this.newId(), ...(demoContact ? { demoContact } : {}) });
    this.dispatcher = new Dispatcher({
      pool: this.pool,
      events: this.events,
      adapters,
      clock: this.clock,
      retry: this.settings.retry,
      newId: () => this.newId(),
      robotLimit: { perMinute: this.settings.dingtalkPerMinute },
      config: () => this.config,
      metrics: notificationMetrics(),
      log: this.log,
    });
    this.log.log(`rules ${this.config.rules.version}, templates ${this.config.templates.version} (${this.config.hash}); channels: ${Object.keys(adapters).join(', ')}`);
  }

  /**
   * A delivery receipt: `sent` becomes `delivered`, or `failed` with the carrier's code (then
   * NotificationFailed is published after the NotificationSent). False when no sent row matches.
   */
  async applySmsReceipt(notificationId: string, r: { delivered: boolean; at: string; code: string | null; message: string | null }): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const row = await NotificationStore.applyReceipt(client, notificationId, r);
      if (row && !r.delivered) {
        await this.events.appendToStreamWithin(
          client,
          notificationStream(row.notificationId),
          [notificationEvent('NotificationFailed', { ...refOf(row), attempts: row.attempts, code: r.code ?? 'UNDELIVERED', reason: r.message ?? 'carrier reported the message undelivered', retried: false, failedAt: r.at }, { eventId: this.newId(), correlationId: row.correlationId, causationId: row.triggerEventId, at: r.at })],
          { expectedRevision: 0 },
        );
      }
      await client.query('COMMIT');
      return row !== undefined;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Event types worth a transaction: every rule's trigger plus those that carry order facts. */
  interesting(): ReadonlySet<string> {
    if (this.interestingFor?.config !== this.config) this.interestingFor = { config: this.config, types: new Set([...FACT_EVENT_TYPES, ...this.config.rules.rules.map((r) => r.on)]) };
    return this.interestingFor.types;
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    const kafkaConfig = this.platform.kafka;
    if (kafkaConfig && (s.consume || s.relay)) {
      // In the background, retried until the broker answers: started while Kafka is away, the
      // service boots and answers (readiness red naming what is missing) instead of failing its boot.
      const logger = messagingLoggerOf(this.log);
      this.kafkaSide = new BackgroundStart('notification messaging', { logger, attempt: () => this.startKafka(kafkaConfig.brokers, logger), stopParts: () => this.stopKafka() });
      await this.kafkaSide.begin();
    }
    this.dispatcher.start(s.dispatchIntervalMs);
    this.retention = startRetentionJob(this.pool, notificationRetentionRules(), retentionFromEnv().intervalMs, messagingLoggerOf(this.log));
    this.log.log(`notification running: consumer ${s.consume ? s.consumerGroup : 'off'}, relay ${s.relay ? 'on' : 'off'}, clock ${s.clock}, dispatch every ${s.dispatchIntervalMs} ms`);
  }

  /** The Kafka side: topics, publisher and relay, the consumer. */
  private async startKafka(brokers: string[], logger: ReturnType<typeof messagingLoggerOf>): Promise<void> {
    const s = this.settings;
    this.kafka = createKafka({ brokers, clientId: 'notification' });
    const resumes = await withKafkaAdmin(this.kafka, async (admin) => {
      await ensureTopics(admin, [...CONSUMED_TOPICS, Topics.notificationEvents], { partitions: s.partitions, prefix: s.topicPrefix });
      return s.consume && !s.fromBeginning ? groupHasOffsets(admin, s.consumerGroup, CONSUMED_TOPICS.map((t) => new TopicNames(s.topicPrefix).physical(t))) : false;
    });
    if (s.relay) {
      this.outbox = await startOutboxRelay(this.kafka, {
        name: 'notification',
        topicPrefix: s.topicPrefix,
        store: this.events,
        pool: this.pool,
        filter: { streamPrefixes: [NOTIFICATION_STREAM_PREFIX] },
        route: (e) => ({ topic: Topics.notificationEvents, key: (e.data as { orderId: string }).orderId, data: e.data }),
        logger,
      });
    }
    if (s.consume) {
      this.consumer = await runConsumer({
        kafka: this.kafka,
        groupId: s.consumerGroup,
        topics: CONSUMED_TOPICS,
        topicPrefix: s.topicPrefix,
        pool: this.pool,
        logger,
        partitionsConsumedConcurrently: 6,
        // Chunk mode (issue #10): up to 100 consecutive messages of a partition share one
        // transaction, their inbox rows claimed in one statement, one COMMIT (3 statements per
        // chunk instead of per event). A chunk that fails on content is split and retried one by
        // one. groupCommit: the chunks of the partitions fetched together share that transaction
        // (the intake reads and writes only through it), and a fetch waits for 64 KiB (500 ms
        // at most), so a quiet flow still brings several orders' events per commit. Idle, a
        // fetch waits up to 1 s for the first byte instead (libs/messaging adaptive fetch).
        batch: { maxMessages: 100 },
        groupCommit: { lingerMs: 10 },
        minBytes: 64 * 1024,
        maxWaitTimeInMs: 500,
        fromBeginning: s.fromBeginning,
        // Joined in the background when that loses nothing: after a crash the rejoin waits for the
        // old member's session to expire (30 s) and the API, health probes included, serves
        // meanwhile. A brand-new group without fromBeginning starts at the latest offset when it
        // joins, so its first start waits for the join (events published meanwhile are not skipped).
        awaitJoin: !(s.fromBeginning || resumes),
        onFatal: (e) => this.log.error(`notification consumer gave up: ${errorMessage(e)}`),
        // Only the types a rule reacts to or whose data templates need: no transaction, no inbox row for the rest (stock levels, ATP, ...).
        // Plus anything a staff member did: it makes them the order's owner (audience `owner`).
        // Stock levels, ATP and the other SKU-keyed types name no order: dropped by their header, unparsed.
        acceptType: (type) => mayConcernAnOrder(type),
        accept: (envelope) => this.interesting().has(envelope.type) || envelope.actor?.kind === 'user',
        handler: async (envelope, tx) => {
          await this.intake.apply(envelope, tx.client);
        },
      });
    }
  }

  private async stopKafka(): Promise<void> {
    // Each part taken before its stop is awaited: one an attempt still running assigns meanwhile is
    // left for that attempt's own clean-up, never cleared unstopped.
    const { consumer, outbox } = this;
    this.consumer = undefined;
    this.outbox = undefined;
    await consumer?.stop().catch((e: unknown) => this.log.warn(`consumer stop: ${(e as Error).message}`));
    await outbox?.stop().catch((e: unknown) => this.log.warn(`relay stop: ${(e as Error).message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.retention?.stop().catch(() => undefined);
    await this.dispatcher?.stop().catch((e: unknown) => this.log.warn(`dispatcher stop: ${(e as Error).message}`));
    // An attempt in flight gets a moment to finish; what it starts after that, it stops itself.
    await this.kafkaSide?.stop();
    this.email?.close();
    await this.events?.close().catch(() => undefined);
  }
}
