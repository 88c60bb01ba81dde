import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Topics, type Actor } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { BackgroundStart, createKafka, ensureTopics, errorMessage, messagingLoggerOf, runConsumer, startOutboxRelay, withKafkaAdmin, type ConsumerHandle, type OutboxRelay } from '@flowline/messaging';
import { PlatformConfig, ulidFactory } from '@flowline/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { approvalEventsHandler } from '../api/messaging/approval-events.consumer';
import { FULFILLMENT_COMMAND_TYPES, fulfillmentCommandHandler } from '../api/messaging/fulfillment-commands.consumer';
import { approvalWebhookOf } from '../domain/webhook.policy';
import { CarrierRegistry } from '../application/carrier.port';
import { FulfillmentHandler, type CommandMeta } from '../application/fulfillment.handler';
import type { ShipmentView } from '../application/fulfillment.service';
import { CainiaoCarrier } from './carriers/cainiao.adapter';
import { carrierConfigsFromEnv, KUAIDI100_COMPANY, type CarrierConfigs } from './carriers/carrier-config';
import { Kuaidi100Tracking } from './carriers/kuaidi100.adapter';
import { SfExpressCarrier } from './carriers/sf-express.adapter';
import { migrateFulfillment } from './fulfillment-schema';
import { chooseCarrier, type CarrierRuleSet } from '../domain/carrier-rules';
import { loadCarrierRules } from './carrier-rules.loader';
import { MergeHandler } from '../application/merge.handler';
import type { MergeRuleSet } from '../domain/merge-parcel.decider';
import type { SkuWeights } from '../domain/parcel-weights';
import { loadMergeRules, loadSkuWeights } from './fulfillment-rules.loader';
import { recordRestocks, RestockJob } from './restock.job';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';
import { writeParcelsAndWebhooks } from './webhooks/webhook-outbox';
import { FULFILLMENT_STREAM_PREFIXES, fulfillmentRelayRoute, PUBLISHED_STORED_TYPES } from './fulfillment-relay.routes';
import { fulfillmentSettingsFromEnv, type FulfillmentSettings } from './fulfillment-settings';
import { nextSimulatedState, SimulatedCarrier } from './simulated-carrier';

/**
 * How fulfillment's consumers batch (issue #10; exported for the statement-count test): chunks of
 * up to 100 messages of a partition share one transaction (inbox rows claimed in one statement,
 * one COMMIT; a chunk never holds two commands of one order), and the chunks of the partitions
 * fetched together share it too (group commit, waiting at most 5 ms for company), and a fetch
 * waits up to 150 ms for 32 KiB, so a steady flow brings several orders per commit (a pick list
 * sees a new order at most that much later; ready_to_ship itself is order-intake's event). A
 * chunk that fails on content is split and retried message by message; a lost race runs the
 * batch again.
 */
export const COMMAND_BATCHING = {
  batch: { maxMessages: 100 },
  groupCommit: { lingerMs: 5 },
  partitionsConsumedConcurrently: 6,
  minBytes: 32 * 1024,
  maxWaitTimeInMs: 150,
} as const;

/**
 * Wires fulfillment's adapters around the platform's pg pool: event store, the handler, the
 * StartFulfillment / StopFulfillment consumer, the relay to fulfillment.events.v1 and the
 * simulated carrier's clock. Schema in onModuleInit; Kafka from onApplicationBootstrap (after
 * app.init()); everything stops in beforeApplicationShutdown.
 */
@Injectable()
export class FulfillmentRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly settings: FulfillmentSettings = fulfillmentSettingsFromEnv();
  readonly carriers = new CarrierRegistry();
  readonly carrierConfigs: CarrierConfigs = carrierConfigsFromEnv();
  readonly carrierRules: CarrierRuleSet = loadCarrierRules();
  readonly mergeRules: MergeRuleSet = loadMergeRules();
  readonly skuWeights: SkuWeights = loadSkuWeights();
  merges!: MergeHandler;
  tracking?: Kuaidi100Tracking;
  private readonly log = new Logger('fulfillment');
  private readonly ulid = ulidFactory();
  pool!: Pool;
  private events!: PostgresEventStore;
  handler!: FulfillmentHandler;
  private kafka?: Kafka;
  private consumer?: ConsumerHandle;
  private approvalConsumer?: ConsumerHandle;
  private outbox?: OutboxRelay;
  private simulator?: NodeJS.Timeout;
  private simulating = false;
  webhooks!: WebhookDispatcher;
  private webhookTimer?: NodeJS.Timeout;
  restocks?: RestockJob;
  private restockTimer?: NodeJS.Timeout;
  /** The Kafka side, started in the background (see onApplicationBootstrap). */
  private kafkaSide?: BackgroundStart;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: PlatformConfig,
  ) {}

  newId(): string {
    return this.ulid();
  }

  /** Metadata of a command accepted at an edge of this process. */
  meta(over: { correlationId?: string; actor?: Actor } = {}): CommandMeta {
    const commandId = this.newId();
    return { commandId, correlationId: over.correlationId ?? commandId, causationId: null, ...(over.actor ? { actor: over.actor } : {}) };
  }

  async onModuleInit(): Promise<void> {
    this.pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    this.events = await PostgresEventStore.create({ pool: this.pool });
    // Versioned migrations (all scopes); replicas booting together wait on the advisory lock.
    await migrateFulfillment(this.pool);
    this.handler = new FulfillmentHandler(this.pool, this.events, () => this.newId(), async (client, orderId, rows, appended) => {
      // Parcel rows and webhook outbox in one statement (issue #10); restocks only on ReturnReceived.
      await writeParcelsAndWebhooks(client, orderId, rows, appended, () => this.newId());
      await recordRestocks(client, orderId, appended);
    });
    this.merges = new MergeHandler(this.events, () => this.newId(), this.mergeRules);
    if (this.settings.inventoryUrl) this.restocks = new RestockJob(this.pool, this.settings.inventoryUrl, (m) => this.log.warn(m));
    this.webhooks = new WebhookDispatcher({
      pool: this.pool,
      retry: { baseMs: this.settings.webhookRetryBaseMs, maxMs: 3_600_000, horizonMs: 24 * 3_600_000 },
      timeoutMs: this.settings.webhookTimeoutMs,
      log: (m) => this.log.warn(m),
    });
    this.carriers.register(new SimulatedCarrier(() => this.newId()));
    const cfg = this.carrierConfigs;
    if (cfg.sf) this.carriers.register(new SfExpressCarrier(cfg.sf, () => this.newId()));
    if (cfg.cainiao) this.carriers.register(new CainiaoCarrier(cfg.cainiao));
    if (cfg.kuaidi100) this.tracking = new Kuaidi100Tracking(cfg.kuaidi100);
  }

  /**
   * A parcel left with a real carrier: ask Kuaidi100 to push its tracking. A failure is logged,
   * not thrown: the handover happened; the subscription can be repeated (a repeat is accepted).
   */
  async afterShipped(view: ShipmentView): Promise<void> {
    if (!this.tracking || !view.carrier || view.carrier === 'SIM' || !view.trackingNumber) return;
    const code = view.carrier === 'CAINIAO' ? (this.carrierConfigs.cainiao?.cpCode ?? '') : view.carrier;
    const company = KUAIDI100_COMPANY[code];
    if (!company) {
      this.log.warn(`no Kuaidi100 company for carrier ${view.carrier}: ${view.trackingNumber} is not followed`);
      return;
    }
    await this.tracking.subscribe(company, view.trackingNumber).catch((e: unknown) => this.log.warn(`Kuaidi100 subscription of ${view.trackingNumber} failed: ${(e as Error).message}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    const kafkaConfig = this.config.kafka;
    if (kafkaConfig && (s.consume || s.relay)) {
      // In the background, retried until the broker answers: started while Kafka is away, the
      // service boots and answers (live, readiness red naming what is missing) and is ready the
      // moment the broker is back. It failed its boot before and was restarted in a loop, each
      // boot paying the migrations again (a fault-injection audit).
      const logger = messagingLoggerOf(this.log);
      this.kafkaSide = new BackgroundStart('fulfillment messaging', { logger, attempt: () => this.startKafka(kafkaConfig.brokers, logger), stopParts: () => this.stopKafka() });
      await this.kafkaSide.begin();
    }
    if (s.webhookPollMs > 0) {
      this.webhookTimer = setInterval(() => void this.webhooks.tick().catch((e: unknown) => this.log.warn(`webhook tick: ${(e as Error).message}`)), s.webhookPollMs);
      this.webhookTimer.unref();
    }
    if (this.restocks) {
      const job = this.restocks;
      this.restockTimer = setInterval(() => void job.tick().catch((e: unknown) => this.log.warn(`restock tick: ${(e as Error).message}`)), 1_000);
      this.restockTimer.unref();
    }
    if (s.simulatedStepMs > 0) {
      this.simulator = setInterval(() => void this.advanceSimulatedParcels(), Math.max(100, Math.floor(s.simulatedStepMs / 4)));
      this.simulator.unref();
    }
    this.log.log(`fulfillment running: consumer ${s.consume ? s.consumerGroup : 'off'}, relay ${s.relay ? 'on' : 'off'}, carriers ${this.carriers.codes().join(', ')}, simulated step ${s.simulatedStepMs} ms, carrier rules ${this.carrierRules.version}, merge rules ${this.mergeRules.version}, SKU weights ${this.skuWeights.version}`);
  }

  /** The Kafka side: topics, publisher and relay, the two consumers. Each attempt starts from nothing ({@link stopKafka} undoes a failed one). */
  private async startKafka(brokers: string[], logger: ReturnType<typeof messagingLoggerOf>): Promise<void> {
    const s = this.settings;
    this.kafka = createKafka({ brokers, clientId: 'fulfillment' });
    await withKafkaAdmin(this.kafka, (admin) => ensureTopics(admin, [Topics.fulfillmentCommands, Topics.fulfillmentEvents, Topics.approvalEvents], { partitions: s.partitions, prefix: s.topicPrefix }));
    if (s.relay) {
      this.outbox = await startOutboxRelay(this.kafka, {
        name: 'fulfillment',
        topicPrefix: s.topicPrefix,
        store: this.events,
        route: fulfillmentRelayRoute,
        pool: this.pool,
        filter: { streamPrefixes: FULFILLMENT_STREAM_PREFIXES, eventTypes: PUBLISHED_STORED_TYPES },
        logger,
      });
    }
    if (s.consume) {
      this.consumer = await runConsumer({
        kafka: this.kafka,
        pool: this.pool,
        groupId: s.consumerGroup,
        topics: [Topics.fulfillmentCommands],
        topicPrefix: s.topicPrefix,
        ...COMMAND_BATCHING,
        accept: (envelope) => FULFILLMENT_COMMAND_TYPES.has(envelope.type),
        // Its hot statements (stream read, append, parcels and deliveries, inbox) are prepared and
        // keyed: on generic plans they are planned once per connection, not per command. The
        // others (merge groups, a delivery without parcels) are keyed too, planned per call.
        genericPlans: true,
        // The group is joined in the background: after a crash the rejoin waits for the old member's
        // session to expire (30 s), and the API (health probes included) serves meanwhile.
        awaitJoin: false,
        onFatal: (e) => this.log.error(`fulfillment commands consumer gave up: ${errorMessage(e)}`),
        handler: fulfillmentCommandHandler(
          this.handler,
          (input) => chooseCarrier(this.carrierRules, input),
          s.madeToOrderSkuPrefixes,
          { merges: this.merges, weights: this.skuWeights },
        ),
        logger,
      });
      // Approved orders (approval.events.v1 ApprovalGranted) pushed to `order.approved` subscribers (the MES).
      this.approvalConsumer = await runConsumer({
        kafka: this.kafka,
        pool: this.pool,
        groupId: `${s.topicPrefix}fulfillment.approvals`,
        topics: [Topics.approvalEvents],
        topicPrefix: s.topicPrefix,
        ...COMMAND_BATCHING,
        // Only a granted order approval is pushed: every other approval event is acknowledged without a transaction.
        accept: (envelope) => approvalWebhookOf(envelope.type, envelope.data as Parameters<typeof approvalWebhookOf>[1]) !== null,
        handler: approvalEventsHandler(() => this.newId()),
        // The group is joined in the background: after a crash the rejoin waits for the old member's
        // session to expire (30 s), and the API (health probes included) serves meanwhile.
        awaitJoin: false,
        onFatal: (e) => this.log.error(`approval events consumer gave up: ${errorMessage(e)}`),
        logger,
      });
    }
  }

  private async stopKafka(): Promise<void> {
    // Each part taken before its stop is awaited: one an attempt still running assigns meanwhile is
    // left for that attempt's own clean-up, never cleared unstopped.
    const { consumer, approvalConsumer, outbox } = this;
    this.consumer = this.approvalConsumer = undefined;
    this.outbox = undefined;
    await consumer?.stop().catch((e) => this.log.warn(`consumer stop: ${(e as Error).message}`));
    await approvalConsumer?.stop().catch((e) => this.log.warn(`approval consumer stop: ${(e as Error).message}`));
    await outbox?.stop().catch((e) => this.log.warn(`relay stop: ${(e as Error).message}`));
  }

  /**
   * Moves every simulated parcel whose last change is older than one step one tracking state on.
   * Safe on several replicas: the decider ignores a state already reached.
   */
  async advanceSimulatedParcels(): Promise<number> {
    if (this.simulating) return 0;
    this.simulating = true;
    try {
      const due = await this.pool.query<{ order_id: string; shipment_id: string; carrier_state: string | null }>(
        `SELECT order_id, shipment_id, carrier_state FROM shipments
          WHERE carrier = 'SIM' AND status IN ('shipped', 'in_transit') AND updated_at <= now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY updated_at LIMIT 200`,
        [this.settings.simulatedStepMs],
      );
      let moved = 0;
      for (const row of due.rows) {
        const next = nextSimulatedState(row.carrier_state as Parameters<typeof nextSimulatedState>[0]);
        if (!next) continue;
        const out = await this.handler.execute(
          row.order_id,
          { type: 'RecordCarrierUpdate', shipmentId: row.shipment_id, state: next.state, description: next.description, at: new Date().toISOString() },
          this.meta({ actor: { kind: 'channel', id: 'simulated-carrier', name: '模拟快递' } }),
        );
        if (out.events.length) moved++;
      }
      return moved;
    } catch (e) {
      this.log.warn(`simulated carrier step failed: ${(e as Error).message}`);
      return 0;
    } finally {
      this.simulating = false;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.simulator) clearInterval(this.simulator);
    if (this.webhookTimer) clearInterval(this.webhookTimer);
    if (this.restockTimer) clearInterval(this.restockTimer);
    await this.webhooks?.drain();
    // An attempt in flight gets a moment to finish; what it starts after that, it stops itself.
    await this.kafkaSide?.stop();
    await this.events?.close().catch(() => undefined);
  }
}
