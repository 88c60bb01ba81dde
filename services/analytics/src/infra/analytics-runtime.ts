import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { BackgroundStart, createKafka, messagingLoggerOf, pgTransactions, TopicNames } from '@flowline/messaging';
import { PlatformConfig } from '@flowline/platform';
import { DomainError } from '@flowline/domain';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../analytics.config';
import { LiveProjector } from '../application/live-projector';
import { rebuildAnalytics, rebuildId, type RebuildPhase, type RebuildReport } from '../application/rebuild';
import { CustomerQueries } from '../application/customer-queries';
import { ForecastQueries } from '../application/forecast-queries';
import { ReconciliationService } from '../application/reconciliation.service';
import { SalesQueries } from '../application/sales-queries';
import { ANALYTICS_TOPICS } from '../projections/analytics-event';
import { ANALYTICS_SCHEMA, ensureAnalyticsSchema, IMPORT_SCHEMA } from './analytics-schema';
import { analyticsChecksum, type AnalyticsChecksum } from './checksum';
import { mstlEtsModel, normalQuantile } from './mstl-model';
import { chinaPromotionCalendar } from './promotion-calendar';

export interface RebuildStatus {
  id: string;
  phase: RebuildPhase;
  startedAt: string;
  report: RebuildReport | null;
  error: string | null;
}

/** Wires analytics around the platform's database pool: schema, live projector, queries, rebuilds. */
@Injectable()
export class AnalyticsRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('analytics');
  sales!: SalesQueries;
  customers!: CustomerQueries;
  forecasts!: ForecastQueries;
  reconciliation!: ReconciliationService;
  projector: LiveProjector | null = null;
  /** The live projector, started in the background (see onApplicationBootstrap). */
  private projectorSide?: BackgroundStart;
  private kafka: Kafka | null = null;
  private readonly rebuilds = new Map<string, RebuildStatus>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly platform: PlatformConfig,
    @Inject(ANALYTICS_CONFIG) readonly config: AnalyticsConfig,
  ) {}

  get pool(): Pool {
    // The platform's TypeORM DataSource is a pg Pool underneath: one pool for the whole service.
    return (this.dataSource.driver as unknown as { master: Pool }).master;
  }

  async onModuleInit(): Promise<void> {
    await ensureAnalyticsSchema(this.pool, ANALYTICS_SCHEMA);
    await ensureAnalyticsSchema(this.pool, IMPORT_SCHEMA);
    this.sales = new SalesQueries(this.pool, this.config.timeZone);
    this.customers = new CustomerQueries(this.pool);
    this.reconciliation = new ReconciliationService(this.pool, this.config.timeZone, this.config.reconciliation);
    this.forecasts = new ForecastQueries(this.pool, this.config.timeZone, () => mstlEtsModel(), chinaPromotionCalendar(), normalQuantile);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.platform.kafka) this.kafka = createKafka({ brokers: this.platform.kafka.brokers, clientId: 'analytics' });
    if (this.kafka && this.config.consume) {
      const projector = new LiveProjector(this.pool, this.kafka, this.config, messagingLoggerOf(this.log));
      this.projector = projector;
      // In the background, retried until the broker answers: started while Kafka is away, the
      // service boots and answers (readiness red naming what is missing) instead of failing its boot.
      this.projectorSide = new BackgroundStart('analytics projector', { logger: messagingLoggerOf(this.log), attempt: () => projector.start(), stopParts: () => projector.stop() });
      await this.projectorSide.begin();
    }
    this.log.log(`analytics running: consumer ${this.projector ? this.config.consumerGroup : 'off'}`);
  }

  checksum(schema: string = ANALYTICS_SCHEMA): Promise<AnalyticsChecksum> {
    if (schema !== ANALYTICS_SCHEMA && !schema.startsWith(`${ANALYTICS_SCHEMA}_rb_`)) {
      throw new DomainError('INVALID_SCHEMA', `not an analytics schema: ${schema}`, { field: 'schema' }, 'invalid');
    }
    return analyticsChecksum(pgTransactions(this.pool), schema);
  }

  /** Starts a rebuild in the background; poll {@link rebuildStatus}. */
  startRebuild(options: { swap?: boolean; keepRebuild?: boolean } = {}): RebuildStatus {
    if (!this.kafka) throw new DomainError('KAFKA_UNAVAILABLE', 'analytics runs without Kafka: nothing to replay', {}, 'conflict');
    if ([...this.rebuilds.values()].some((r) => r.report === null && r.error === null)) {
      throw new DomainError('REBUILD_IN_PROGRESS', 'a rebuild is already running in this process', {}, 'conflict');
    }
    const now = new Date();
    const id = rebuildId(now, Math.random());
    const status: RebuildStatus = { id, phase: 'starting', startedAt: now.toISOString(), report: null, error: null };
    this.rebuilds.set(id, status);
    rebuildAnalytics({
      pool: this.pool,
      kafka: this.kafka,
      topicPrefix: this.config.topicPrefix,
      id,
      ...options,
      logger: messagingLoggerOf(this.log),
      // 'done' and 'failed' only together with the report or the error (set below): a poller never sees one without the other.
      onProgress: (p) => {
        if (p.phase !== 'done' && p.phase !== 'failed') status.phase = p.phase;
      },
    }).then(
      (report) => Object.assign(status, { report, phase: 'done' }),
      (e: unknown) => {
        Object.assign(status, { error: (e as Error).message, phase: 'failed' });
        this.log.error(`rebuild ${id} failed: ${(e as Error).message}`);
      },
    );
    return status;
  }

  /** Messages of each topic the live consumer group has not committed yet (high watermark - committed offset, summed over partitions). */
  async lag(): Promise<{ topic: string; messages: number }[]> {
    if (!this.kafka) throw new DomainError('KAFKA_UNAVAILABLE', 'analytics runs without Kafka', {}, 'conflict');
    const names = new TopicNames(this.config.topicPrefix);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const committed = new Map<string, number>();
      for (const t of await admin.fetchOffsets({ groupId: this.config.consumerGroup, topics: ANALYTICS_TOPICS.map((x) => names.physical(x)) })) {
        for (const p of t.partitions) committed.set(`${t.topic}#${p.partition}`, Number(p.offset));
      }
      const out: { topic: string; messages: number }[] = [];
      for (const topic of ANALYTICS_TOPICS) {
        let messages = 0;
        for (const p of await admin.fetchTopicOffsets(names.physical(topic))) {
          const c = committed.get(`${names.physical(topic)}#${p.partition}`) ?? -1;
          messages += Math.max(0, Number(p.high) - (c >= 0 ? c : Number(p.low)));
        }
        out.push({ topic, messages });
      }
      return out;
    } finally {
      await admin.disconnect();
    }
  }

  rebuildStatus(id: string): RebuildStatus {
    const s = this.rebuilds.get(id);
    if (!s) throw new DomainError('REBUILD_NOT_FOUND', `no rebuild ${id} in this process`, { id }, 'not_found');
    return s;
  }

  async beforeApplicationShutdown(): Promise<void> {
    // An attempt in flight gets a moment to finish; what it starts after that, it stops itself.
    await this.projectorSide?.stop();
  }
}
