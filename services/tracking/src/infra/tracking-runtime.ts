import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { BackgroundStart, createKafka, typeormTransactions, messagingLoggerOf, type MessagingLogger } from '@flowline/messaging';
import { PlatformConfig } from '@flowline/platform';
import { DomainError } from '@flowline/domain';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { LiveProjector } from '../application/live-projector';
import { rebuildProjections, type RebuildProgress, type RebuildReport } from '../application/rebuild';
import { SlaClockJob } from '../application/sla-clock.job';
import { TrackingQueries } from '../application/tracking-queries';
import { TRACKING_CONFIG, type TrackingConfig } from '../tracking.config';
import { CLOCK, type Clock } from './clock';
import { OrderChangeFeed } from './order-change-feed';
import { createSlaAlerts, type SlaAlertsHandle } from './sla-alert-publisher';
import { ensureTrackingSchema, TRACKING_SCHEMA } from './tracking-schema';

export interface RebuildStatus {
  id: string;
  phase: RebuildProgress['phase'];
  consumed: number;
  applied: number;
  startedAt: string;
  report: RebuildReport | null;
  error: string | null;
}

/**
 * Wires tracking around the platform's DataSource: the schema (onModuleInit), the live projector,
 * the SLA clock job and the change feed (onApplicationBootstrap, after app.init()), rebuilds
 * started from the admin API, and the queries the controllers serve.
 */
@Injectable()
export class TrackingRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('tracking');
  queries!: TrackingQueries;
  clockJob!: SlaClockJob;
  feed!: OrderChangeFeed;
  /** SLA yellow / red / stuck transitions published to tracking.events.v1 (outbox + relay). */
  slaAlerts!: SlaAlertsHandle;
  projector: LiveProjector | null = null;
  /** The Kafka side, started in the background: SLA alert publishing and the live projector. */
  private kafkaSide?: BackgroundStart;
  private kafka: Kafka | null = null;
  private readonly rebuilds = new Map<string, RebuildStatus>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly platform: PlatformConfig,
    @Inject(TRACKING_CONFIG) readonly config: TrackingConfig,
    @Inject(CLOCK) readonly clock: Clock,
  ) {}

  get pool(): Pool {
    // The platform's TypeORM DataSource is a pg Pool underneath: one pool for the whole service.
    return (this.dataSource.driver as unknown as { master: Pool }).master;
  }

  async onModuleInit(): Promise<void> {
    await ensureTrackingSchema(typeormTransactions(this.dataSource), TRACKING_SCHEMA);
    this.queries = new TrackingQueries(this.dataSource, this.config.sla, this.clock);
    this.clockJob = new SlaClockJob(this.dataSource, this.clock, this.config.clockIntervalMs);
    this.feed = new OrderChangeFeed(this.platform.database!.url, () => this.clock.now());
    this.slaAlerts = await createSlaAlerts({ pool: this.pool, clock: this.clock, logger: this.messagingLogger() });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.feed.start();
    this.clockJob.start();
    if (this.platform.kafka) this.kafka = createKafka({ brokers: this.platform.kafka.brokers, clientId: 'tracking' });
    const kafka = this.kafka;
    const alerts = { intervalMs: this.config.clockIntervalMs, topicPrefix: this.config.topicPrefix, partitions: this.config.topicPartitions };
    if (!kafka) {
      await this.slaAlerts.start(null, alerts);
    } else {
      const projector = this.config.consume ? new LiveProjector(this.dataSource, kafka, this.config, this.clock, this.messagingLogger()) : null;
      this.projector = projector;
      // In the background, retried until the broker answers: started while Kafka is away, the board
      // and the API answer from the read model (readiness red naming what is missing) instead of the
      // boot failing; the projector catches up once the broker is back.
      let alertsStarted = false;
      this.kafkaSide = new BackgroundStart('tracking messaging', {
        logger: this.messagingLogger(),
        attempt: async () => {
          if (!alertsStarted) {
            await this.slaAlerts.start(kafka, alerts);
            alertsStarted = true;
          }
          await projector?.start();
        },
        // A retry starts the projector again (the alerts stay as started: stopping them closes their store).
        stopParts: async () => void (await projector?.stop().catch((e: unknown) => this.log.warn(`projector stop: ${(e as Error).message}`))),
      });
      await this.kafkaSide.begin();
    }
    this.log.log(`tracking running: consumer ${this.projector ? this.config.consumerGroup : 'off'}, clock job every ${this.config.clockIntervalMs} ms`);
  }

  /** Starts a rebuild in the background (one at a time across the cluster); poll {@link rebuildStatus}. */
  startRebuild(options: { swap?: boolean; keepOld?: boolean; allowSkipped?: boolean } = {}): RebuildStatus {
    if (!this.kafka) throw new DomainError('kafka_unavailable', 'tracking runs without Kafka: nothing to replay', {}, 'conflict');
    if ([...this.rebuilds.values()].some((r) => r.phase === 'starting' || r.phase === 'replaying' || r.phase === 'swapping')) {
      throw new DomainError('rebuild_in_progress', 'a rebuild is already running in this process', {}, 'conflict');
    }
    const status: RebuildStatus = { id: '', phase: 'starting', consumed: 0, applied: 0, startedAt: this.clock.now().toISOString(), report: null, error: null };
    const run = rebuildProjections({
      pool: this.pool,
      kafka: this.kafka,
      topicPrefix: this.config.topicPrefix,
      consumerGroup: this.config.consumerGroup,
      sla: this.config.sla,
      clock: this.clock,
      logger: this.messagingLogger(),
      ...options,
      onProgress: (p) => {
        if (!status.id) {
          status.id = p.id;
          this.rebuilds.set(p.id, status);
        }
        // 'done' is set below together with the report: the rebuild reports 'done' before its
        // clean-up (group deletion, unlock) ends, and a poll in between saw 'done' without a report.
        Object.assign(status, { phase: p.phase === 'done' ? status.phase : p.phase, consumed: p.consumed, applied: p.applied });
      },
    });
    run.then(
      (report) => Object.assign(status, { report, phase: 'done' }),
      (e: unknown) => {
        Object.assign(status, { error: (e as Error).message, phase: 'failed' });
        this.log.error(`rebuild ${status.id} failed: ${(e as Error).message}`);
      },
    );
    return status;
  }

  rebuildStatus(id: string): RebuildStatus {
    const s = this.rebuilds.get(id);
    if (!s) throw new DomainError('rebuild_not_found', `no rebuild ${id} in this process`, { id }, 'not_found');
    return s;
  }

  async beforeApplicationShutdown(): Promise<void> {
    // The projector (an attempt in flight gets a moment to finish; what it starts after that, it stops itself).
    await this.kafkaSide?.stop();
    await this.clockJob?.stop();
    await this.slaAlerts?.stop().catch((e: unknown) => this.log.warn(`sla alerts stop: ${(e as Error).message}`));
    await this.feed?.stop();
  }

  private messagingLogger(): MessagingLogger {
    return messagingLoggerOf(this.log);
  }
}
