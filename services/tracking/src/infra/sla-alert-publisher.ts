import { ulidFactory } from '@flowline/platform';
import { Topics, type TrackingEventType } from '@flowline/contracts';
import { PostgresEventStore, type NewEvent } from '@flowline/eventstore';
import { ensureTopics, EventPublisher, EventRelay, type MessagingLogger, relayCheckpointIntervalFromEnv } from '@flowline/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { slaAlertsFor, TRACKING_STREAM_PREFIX, trackingStream, type SlaAlert, type SlaAlertCandidate } from '../application/sla-alerts';
import type { Clock } from './clock';
import { PROJECTION_SWAP_LOCK, table, TRACKING_SCHEMA } from './tracking-schema';

/**
 * Alerts live outside the `tracking` schema on purpose: a rebuild swaps that schema (ADR 0006),
 * and what was published must stay published.
 */
export const ALERTS_SCHEMA = 'tracking_alerts';
/** One alert scan in the cluster at a time (unique within the tracking database, next to 7_341_00x). */
export const SLA_ALERT_LOCK = 7_341_010;

export async function migrateSlaAlerts(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SLA_ALERT_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${ALERTS_SCHEMA}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${ALERTS_SCHEMA}"."sla_alert" (
      "alert_key" text PRIMARY KEY,
      "order_id" text NOT NULL,
      "event_type" text NOT NULL,
      "event_id" text NOT NULL,
      "published_at" timestamptz NOT NULL
    )`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

export interface SlaAlertScan {
  ran: boolean;
  published: { type: TrackingEventType; orderId: string; eventId: string }[];
}

/**
 * Turns the SLA clock job's colours and stuck flags into integration events: each scan (one
 * replica at a time, under an advisory lock) reads the yellow / red / stuck orders, keeps the
 * transitions not yet in `tracking_alerts.sla_alert`, and in one transaction appends their events
 * to `tracking-<orderId>` streams (outbox) and records their keys. The relay publishes them to
 * `tracking.events.v1`. A later tick or another replica finds the keys and publishes nothing.
 */
export class SlaAlertPublisher {
  private readonly ulid = ulidFactory();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private relay: EventRelay | null = null;

  constructor(
    private readonly deps: { pool: Pool; events: PostgresEventStore; clock: Clock; logger: MessagingLogger },
  ) {}

  async scan(now: Date = this.deps.clock.now()): Promise<SlaAlertScan> {
    const at = now.toISOString();
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows: lock } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SLA_ALERT_LOCK]);
      if (!lock[0].locked) {
        await client.query('COMMIT');
        return { ran: false, published: [] };
      }
      await client.query('SELECT pg_advisory_xact_lock_shared($1)', [PROJECTION_SWAP_LOCK]);
      const candidates = await readCandidates(client);
      const wanted = candidates.flatMap((c) => slaAlertsFor(c, c.statusAt ?? at));
      const done = wanted.length === 0 ? new Set<string>() : new Set((await client.query<{ alert_key: string }>(`SELECT "alert_key" FROM "${ALERTS_SCHEMA}"."sla_alert" WHERE "alert_key" = ANY($1::text[])`, [wanted.map((w) => w.key)])).rows.map((r) => r.alert_key));
      const fresh = wanted.filter((w) => !done.has(w.key)).map((w) => ({ alert: w, eventId: this.ulid() }));
      if (fresh.length > 0) {
        const byOrder = new Map<string, NewEvent[]>();
        for (const { alert, eventId } of fresh) {
          const list = byOrder.get(alert.data.orderId) ?? [];
          list.push(toEvent(alert, eventId, at));
          byOrder.set(alert.data.orderId, list);
        }
        // Append first (the event store's rule), then record the keys.
        await this.deps.events.appendToStreamsWithin(client, [...byOrder].map(([orderId, events]) => ({ streamId: trackingStream(orderId), events, expectedRevision: 'any' as const })));
        await client.query(
          `INSERT INTO "${ALERTS_SCHEMA}"."sla_alert" ("alert_key", "order_id", "event_type", "event_id", "published_at")
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(k, o, ty, e), (SELECT $5::timestamptz) AS p`,
          [fresh.map((f) => f.alert.key), fresh.map((f) => f.alert.data.orderId), fresh.map((f) => f.alert.type), fresh.map((f) => f.eventId), at],
        );
      }
      await client.query('COMMIT');
      return { ran: true, published: fresh.map((f) => ({ type: f.alert.type, orderId: f.alert.data.orderId, eventId: f.eventId })) };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Scans every `intervalMs` (after the clock job has had its tick) and relays the events to Kafka. */
  async start(intervalMs: number, publisher: EventPublisher | null): Promise<void> {
    if (publisher) {
      this.relay = new EventRelay({
        name: 'tracking',
        checkpointIntervalMs: relayCheckpointIntervalFromEnv(),
        store: this.deps.events,
        publisher,
        pool: this.deps.pool,
        filter: { streamPrefixes: [TRACKING_STREAM_PREFIX] },
        route: (e) => ({ topic: Topics.trackingEvents, key: (e.data as { orderId: string }).orderId, data: e.data }),
        logger: this.deps.logger,
      });
      await this.relay.start();
    }
    if (intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => {
        if (!this.running)
          this.running = this.scan()
            .catch((e: unknown) => this.deps.logger.warn('sla alerts: scan failed (next tick retries)', { error: (e as Error).message }))
            .finally(() => (this.running = null));
      }, intervalMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.relay?.stop();
    this.relay = null;
  }
}

function toEvent(alert: SlaAlert, eventId: string, at: string): NewEvent {
  return {
    eventId,
    type: alert.type,
    schemaVersion: 1,
    data: alert.data,
    metadata: { correlationId: alert.data.orderId, causationId: null, occurredAt: at, actor: { kind: 'service', id: 'tracking', name: 'tracking' } },
  } as NewEvent;
}

async function readCandidates(client: PoolClient): Promise<SlaAlertCandidate[]> {
  const S = table(TRACKING_SCHEMA, 'order_summary');
  const iso = (c: string) => `to_char("${c}" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "${c}"`;
  const { rows } = await client.query<Record<string, string | boolean | null>>(
    `SELECT "order_id", "channel_order_id", "shop_id", "stage", "sla_colour", "stuck", "sla_segment",
            ${['stage_entered_at', 'sla_started_at', 'sla_yellow_at', 'sla_due_at', 'stuck_at', 'status_at'].map(iso).join(', ')}
       FROM ${S} WHERE "sla_colour" IN ('yellow', 'red') OR "stuck"`,
  );
  return rows.map((r) => ({
    orderId: r.order_id as string,
    channelOrderId: r.channel_order_id as string,
    shopId: r.shop_id as string,
    stage: r.stage as string,
    stageEnteredAt: r.stage_entered_at as string,
    slaColour: r.sla_colour as string,
    stuck: r.stuck === true,
    slaSegment: r.sla_segment as string | null,
    slaStartedAt: r.sla_started_at as string | null,
    slaYellowAt: r.sla_yellow_at as string | null,
    slaDueAt: r.sla_due_at as string | null,
    stuckAt: r.stuck_at as string | null,
    statusAt: r.status_at as string | null,
  }));
}

/**
 * Tracking's SLA alerts, wired: migrations and the event store (outbox) now; {@link SlaAlertsHandle.start}
 * makes sure `tracking.events.v1` exists, connects a publisher and starts the relay and the scan.
 */
export interface SlaAlertsHandle {
  publisher: SlaAlertPublisher;
  start(kafka: Kafka | null, options: { intervalMs: number; topicPrefix: string; partitions: number }): Promise<void>;
  stop(): Promise<void>;
}

export async function createSlaAlerts(deps: { pool: Pool; clock: Clock; logger: MessagingLogger }): Promise<SlaAlertsHandle> {
  await migrateSlaAlerts(deps.pool);
  const events = await PostgresEventStore.create({ pool: deps.pool });
  const alerts = new SlaAlertPublisher({ ...deps, events });
  let kafkaPublisher: EventPublisher | null = null;
  return {
    publisher: alerts,
    async start(kafka, o) {
      if (kafka) {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await ensureTopics(admin, [Topics.trackingEvents], { partitions: o.partitions, prefix: o.topicPrefix });
        } finally {
          await admin.disconnect();
        }
        kafkaPublisher = new EventPublisher({ kafka, topicPrefix: o.topicPrefix });
        await kafkaPublisher.connect();
      }
      await alerts.start(o.intervalMs, kafkaPublisher);
    },
    async stop() {
      await alerts.stop();
      await kafkaPublisher?.disconnect().catch(() => undefined);
      await events.close().catch(() => undefined);
    },
  };
}
