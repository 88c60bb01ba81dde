import { defineGauge, defineHistogram } from '@flowline/observability';
import type { SqlQueryable, TopicNames } from '@flowline/messaging';
import type { Admin } from 'kafkajs';
import { table, TRACKING_SCHEMA } from './tracking-schema';

/** One live projector whose lag the gauges report (a process normally has one). */
export interface LagSource {
  measure(): Promise<{ topic: string; events: number; seconds: number }[]>;
}

const SOURCES = Symbol.for('flowline.tracking.lagSources');
function sources(): Set<LagSource> {
  const g = globalThis as unknown as Record<symbol, Set<LagSource> | undefined>;
  return (g[SOURCES] ??= new Set());
}

/** Seconds from an event's occurrence to its projection commit, per topic. */
export const projectionDelay = () =>
  defineHistogram({
    name: 'flowline_tracking_projection_delay_seconds',
    help: 'Time from an event occurring to tracking committing its projection',
    labelNames: ['topic'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  });

type Lag = { topic: string; events: number; seconds: number };
let lastScrape: { at: number; lags: Promise<Lag[]> } | null = null;

/** One measurement per scrape, shared by both gauges (the registry may collect them in parallel). */
function scrape(): Promise<Lag[]> {
  if (!lastScrape || Date.now() - lastScrape.at > 1_000) {
    lastScrape = {
      at: Date.now(),
      lags: Promise.all([...sources()].map((s) => s.measure().catch(() => [] as Lag[]))).then((all) => all.flat()),
    };
  }
  return lastScrape.lags;
}

/** Measured on scrape: topic high watermarks against what the consumer group handled. */
export const projectionLagEvents = () =>
  defineGauge({
    name: 'flowline_tracking_projection_lag_events',
    help: 'Events in the topic that tracking has not handled yet',
    labelNames: ['topic'] as const,
    async collect() {
      for (const l of await scrape()) this.set({ topic: l.topic }, l.events);
    },
  });

const lagSeconds = () =>
  defineGauge({
    name: 'flowline_tracking_projection_lag_seconds',
    help: 'Age of the last applied event where tracking is behind the topic (0 when caught up)',
    labelNames: ['topic'] as const,
    async collect() {
      for (const l of await scrape()) this.set({ topic: l.topic }, l.seconds);
    },
  });

/**
 * Projection lag of the live schema: per topic, how many events are past what the consumer group
 * handled, and how old the last applied one is when there are any. Registered with the gauges while started.
 */
export class ProjectionLagMonitor implements LagSource {
  constructor(
    private readonly db: SqlQueryable,
    private readonly admin: Admin,
    private readonly names: TopicNames,
    private readonly topics: string[],
    private readonly groupId: string,
    private readonly now: () => Date,
  ) {}

  start(): void {
    projectionLagEvents();
    lagSeconds();
    sources().add(this);
  }

  stop(): void {
    sources().delete(this);
  }

  async measure(): Promise<{ topic: string; events: number; seconds: number }[]> {
    const cps = await this.db.query(`SELECT "topic", "partition", "offset", "occurred_at" FROM ${table(TRACKING_SCHEMA, 'checkpoint')}`);
    const byKey = new Map<string, { offset: number; occurredAt: Date }>();
    for (const r of cps.rows) byKey.set(`${r.topic}#${r.partition}`, { offset: Number(r.offset), occurredAt: new Date(r.occurred_at) });
    // Committed group offsets count every message handled, including inbox duplicates and dead
    // letters, which move no checkpoint; the checkpoint dates the last applied event.
    const committed = new Map<string, number>();
    for (const t of await this.admin.fetchOffsets({ groupId: this.groupId, topics: this.topics.map((x) => this.names.physical(x)) })) {
      for (const p of t.partitions) committed.set(`${this.names.logical(t.topic)}#${p.partition}`, Number(p.offset));
    }
    const out: { topic: string; events: number; seconds: number }[] = [];
    for (const topic of this.topics) {
      const offsets = await this.admin.fetchTopicOffsets(this.names.physical(topic));
      let events = 0;
      let oldest: Date | null = null;
      for (const p of offsets) {
        const high = Number(p.high);
        const low = Number(p.low);
        const cp = byKey.get(`${topic}#${p.partition}`);
        const done = Math.max(committed.get(`${topic}#${p.partition}`) ?? -1, cp ? cp.offset + 1 : -1, low);
        const behind = Math.max(0, high - done);
        events += behind;
        if (behind > 0 && cp && (!oldest || cp.occurredAt < oldest)) oldest = cp.occurredAt;
      }
      const seconds = events > 0 && oldest ? Math.max(0, (this.now().getTime() - oldest.getTime()) / 1000) : 0;
      out.push({ topic, events, seconds });
    }
    return out;
  }
}
