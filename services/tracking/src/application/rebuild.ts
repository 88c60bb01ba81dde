import { pgTransactions, stderrLogger, TopicNames, type MessagingLogger } from '@flowline/messaging';
import { DomainError } from '@flowline/domain';
import type { Kafka } from 'kafkajs';
import { runBatchConsumer, type BatchConsumerHandle } from '../infra/batch-consumer';
import type { Pool } from 'pg';
import type { SlaConfig } from '../domain/sla';
import type { Clock } from '../infra/clock';
import { ORDER_CHANGED_CHANNEL, ProjectionStore } from '../infra/projection-store';
import { ensureTrackingSchema, PROJECTION_SWAP_LOCK, quoteSchema, REBUILD_LOCK, table, TRACKING_SCHEMA } from '../infra/tracking-schema';
import { TRACKED_TOPIC_LIST } from './live-projector';

export interface RebuildOptions {
  pool: Pool;
  kafka: Kafka;
  topicPrefix: string;
  /** The live consumer group: the rebuild writes its inbox rows under it, so after the swap the live consumer skips what the rebuild applied. */
  consumerGroup: string;
  sla: SlaConfig;
  clock: Clock;
  /** Swap the rebuilt schema in (default true). False leaves it next to the live one for comparison. */
  swap?: boolean;
  /** Keep the replaced schema as `tracking_old_<id>` (default false: dropped after the swap). */
  keepOld?: boolean;
  /** Swap even when some messages could not be applied (the live consumer dead-lettered them too). Default false. */
  allowSkipped?: boolean;
  /** Partitions replayed in parallel (default 4). */
  concurrency?: number;
  /** Give up when the replay has not reached the topics' ends by then (default 30 min). */
  catchUpTimeoutMs?: number;
  /** How long the swap may hold live writes while the replay passes the live checkpoints (default 30 s). */
  swapTimeoutMs?: number;
  logger?: MessagingLogger;
  /** Rebuild id (default from the clock); names the schema `tracking_rb_<id>`. */
  id?: string;
  onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildProgress {
  id: string;
  phase: 'starting' | 'replaying' | 'swapping' | 'done' | 'failed';
  consumed: number;
  applied: number;
}

export interface RebuildReport {
  id: string;
  /** Where the rebuilt rows are now: `tracking` after a swap, else the rebuild schema. */
  schema: string;
  rebuildSchema: string;
  swapped: boolean;
  oldSchema: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Wall time of the replay alone (until the topics' ends at start were reached). */
  replayMs: number;
  /** Messages read from the topics (duplicates included). */
  consumed: number;
  /** Events applied once each (after the inbox). */
  applied: number;
  duplicates: number;
  /** Messages that are not envelopes (the live consumer dead-letters them too). */
  undecodable: number;
  /** Envelopes that failed to apply after retries (only with `allowSkipped`). */
  skipped: number;
  eventsPerSecond: number;
  orders: number;
  /** Some partition no longer starts at offset 0 (retention removed events): the rebuild is incomplete. */
  truncated: boolean;
  /** How long live writes waited for the swap. */
  swapPauseMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`rebuild: timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** `20260302T010203Z` + 4 random hex, lower case: a schema-name-safe id. */
export function newRebuildId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
  return `${stamp}_${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
}

/**
 * Replays every tracked topic from the beginning into a fresh schema `tracking_rb_<id>` with the
 * same projection code as the live consumer, then swaps it in without downtime:
 *
 * 1. a new consumer group reads all topics from offset 0 into the fresh schema (batch per
 *    partition fetch, one transaction each, inbox under the live group id);
 * 2. once it reached the topics' ends seen at start, the swap transaction takes the swap lock
 *    exclusively (live writes wait; reads go on), lets the replay pass the live checkpoints,
 *    stops it, renames `tracking` away and the rebuild schema to `tracking`, and commits;
 * 3. the old schema is dropped (or kept); the live consumer resumes on the new tables and
 *    skips, through the inbox, what the replay already applied.
 */
export async function rebuildProjections(options: RebuildOptions): Promise<RebuildReport> {
  const started = options.clock.now();
  const t0 = Date.now();
  const id = options.id ?? newRebuildId(started);
  const shadow = `${TRACKING_SCHEMA}_rb_${id}`;
  const old = `${TRACKING_SCHEMA}_old_${id}`;
  quoteSchema(shadow);
  quoteSchema(old);
  const logger = options.logger ?? stderrLogger;
  const names = new TopicNames(options.topicPrefix);
  const swap = options.swap ?? true;
  let handle: BatchConsumerHandle | null = null;
  const report = (phase: RebuildProgress['phase']) =>
    options.onProgress?.({ id, phase, consumed: handle ? handle.stats.applied + handle.stats.duplicates : 0, applied: handle?.stats.applied ?? 0 });
  report('starting');

  const lockClient = await options.pool.connect();
  const admin = options.kafka.admin();
  const group = `${options.consumerGroup}-rebuild-${id}`;
  try {
    const [{ locked }] = (await lockClient.query('SELECT pg_try_advisory_lock($1) AS locked', [REBUILD_LOCK])).rows;
    if (!locked) throw new DomainError('rebuild_in_progress', 'another rebuild of the tracking projections is running', {}, 'conflict');

    const tx = pgTransactions(options.pool);
    await tx.run((t) => t.query(`DROP SCHEMA IF EXISTS ${quoteSchema(shadow)} CASCADE`));
    await ensureTrackingSchema(tx, shadow);
    const store = new ProjectionStore(shadow, options.sla, { notify: false });

    await admin.connect();
    const targets = new Map<string, number>();
    let truncated = false;
    for (const topic of TRACKED_TOPIC_LIST) {
      for (const p of await admin.fetchTopicOffsets(names.physical(topic))) {
        if (Number(p.low) > 0) truncated = true;
        if (Number(p.high) > Number(p.low)) targets.set(`${topic}#${p.partition}`, Number(p.high) - 1);
      }
    }
    if (truncated) logger.warn('rebuild: a topic no longer starts at offset 0; events removed by retention are missing from the rebuild', { id });

    const applied = new Map<string, number>();
    let frozen = false;
    let inflight = 0;
    report('replaying');
    handle = await runBatchConsumer({
      kafka: options.kafka,
      // A replay that gives up fails the rebuild, not the live service.
      restartProcessOnFatal: false,
      groupId: group,
      topics: TRACKED_TOPIC_LIST,
      names,
      concurrency: options.concurrency ?? 4,
      maxChunk: 2_000,
      fromBeginning: true,
      transactions: tx,
      // The live consumer dead-letters what cannot be applied; the replay only counts it.
      deadLetters: null,
      maxRetries: 2,
      logger,
      paused: () => frozen,
      apply: async (t, items) => {
        // Frozen for the swap: a chunk that slipped past the pause check writes nothing.
        if (frozen) return { applied: 0, duplicates: 0 };
        inflight++;
        try {
          return await store.applyOnce(t, options.consumerGroup, items, options.clock.now().toISOString());
        } finally {
          inflight--;
        }
      },
      onCommitted: (topic, partition, lastOffset) => applied.set(`${topic}#${partition}`, Number(lastOffset)),
    });

    const reached = () => [...targets].every(([key, offset]) => (applied.get(key) ?? -1) >= offset);
    const catchUpUntil = Date.now() + (options.catchUpTimeoutMs ?? 30 * 60_000);
    while (!reached()) {
      if (Date.now() > catchUpUntil) throw new Error('rebuild: timed out replaying the topics');
      await sleep(50);
      report('replaying');
    }
    const replayMs = Date.now() - t0;

    let swapPauseMs = 0;
    let swapped = false;
    const skipped = handle.stats.deadLettered - handle.stats.undecodable;
    if (swap && skipped > 0 && !options.allowSkipped) {
      throw new DomainError('rebuild_incomplete', `${skipped} message(s) could not be applied during the replay (see the logs); not swapping`, { skipped, schema: shadow }, 'conflict');
    }
    if (swap) {
      report('swapping');
      const c = await options.pool.connect();
      try {
        await c.query('BEGIN');
        const pauseStart = Date.now();
        await c.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_SWAP_LOCK]);
        const liveExists = ((await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [TRACKING_SCHEMA])).rowCount ?? 0) > 0;
        const live = liveExists ? (await c.query(`SELECT "topic", "partition", "offset" FROM ${table(TRACKING_SCHEMA, 'checkpoint')}`)).rows : [];
        // Live writes are held now; let the replay pass everything live applied, then stop it.
        await waitUntil('the replay to pass the live checkpoints', () => {
          return live.every((cp: { topic: string; partition: number; offset: string }) => (applied.get(`${cp.topic}#${cp.partition}`) ?? -1) >= Number(cp.offset));
        }, options.swapTimeoutMs ?? 30_000);
        frozen = true;
        await waitUntil('the replay batch in flight', () => inflight === 0, options.swapTimeoutMs ?? 30_000, 5);
        if (liveExists) await c.query(`ALTER SCHEMA ${quoteSchema(TRACKING_SCHEMA)} RENAME TO ${quoteSchema(old)}`);
        await c.query(`ALTER SCHEMA ${quoteSchema(shadow)} RENAME TO ${quoteSchema(TRACKING_SCHEMA)}`);
        await c.query(
          `INSERT INTO ${table(TRACKING_SCHEMA, 'meta')} ("key", "value") VALUES ('rebuild', $1::jsonb) ON CONFLICT ("key") DO UPDATE SET "value" = EXCLUDED."value"`,
          [JSON.stringify({ id, at: options.clock.now().toISOString(), source: 'kafka', applied: handle.stats.applied })],
        );
        await c.query(`SELECT pg_notify('${ORDER_CHANGED_CHANNEL}', '*')`);
        await c.query('COMMIT');
        swapPauseMs = Date.now() - pauseStart;
        swapped = true;
        if (liveExists && !options.keepOld) await c.query(`DROP SCHEMA IF EXISTS ${quoteSchema(old)} CASCADE`);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    }
    frozen = true;
    const stats = handle.stats;
    await handle.stop();
    handle = null;
    await admin.deleteGroups([group]).catch(() => undefined);

    const schema = swapped ? TRACKING_SCHEMA : shadow;
    const [{ n }] = (await options.pool.query(`SELECT count(*)::int AS n FROM ${table(schema, 'order_summary')}`)).rows;
    const finished = options.clock.now();
    report('done');
    return {
      id,
      schema,
      rebuildSchema: shadow,
      swapped,
      oldSchema: swapped && options.keepOld ? old : null,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: Date.now() - t0,
      replayMs,
      consumed: stats.applied + stats.duplicates + stats.deadLettered,
      applied: stats.applied,
      duplicates: stats.duplicates,
      undecodable: stats.undecodable,
      skipped: stats.deadLettered - stats.undecodable,
      eventsPerSecond: replayMs > 0 ? Math.round(((stats.applied + stats.duplicates) * 1000) / replayMs) : 0,
      orders: n,
      truncated,
      swapPauseMs,
    };
  } catch (e) {
    report('failed');
    throw e;
  } finally {
    if (handle) await handle.stop().catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await lockClient.query('SELECT pg_advisory_unlock($1)', [REBUILD_LOCK]).catch(() => undefined);
    lockClient.release();
  }
}

/** Drops a rebuild schema left by `swap: false` (never the live one). */
export async function dropRebuildSchema(pool: Pool, schema: string): Promise<void> {
  if (schema === TRACKING_SCHEMA || !schema.startsWith(`${TRACKING_SCHEMA}_`)) throw new Error(`refusing to drop ${schema}`);
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
}
