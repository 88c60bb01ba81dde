import { pgTransactions, runBatchConsumer, stderrLogger, TopicNames, type ConsumerHandle, type MessagingLogger } from '@flowline/messaging';
import { DomainError } from '@flowline/domain';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { ANALYTICS_REBUILD_LOCK, ANALYTICS_SCHEMA, ANALYTICS_SWAP_LOCK, ensureAnalyticsSchema, quoteSchema, table } from '../infra/analytics-schema';
import { analyticsChecksum, type AnalyticsChecksum } from '../infra/checksum';
import { FactStore } from '../infra/fact-store';
import { ANALYTICS_TOPICS, isProjected } from '../projections/analytics-event';

export interface RebuildOptions {
  pool: Pool;
  kafka: Kafka;
  topicPrefix: string;
  /** Swap the rebuilt schema in (default false: leave it next to the live one and compare checksums). */
  swap?: boolean;
  /** Keep the rebuilt schema after a comparison without swap (default false: dropped). */
  keepRebuild?: boolean;
  /** Give up when the replay has not reached the topics' ends by then (default 30 min). */
  catchUpTimeoutMs?: number;
  /** How long the swap may hold live writes while the replay passes the live checkpoints (default 30 s). */
  swapTimeoutMs?: number;
  /** Rebuild id; names the schema `analytics_rb_<id>`. */
  id: string;
  logger?: MessagingLogger;
  onProgress?: (p: { id: string; phase: RebuildPhase }) => void;
}

export type RebuildPhase = 'starting' | 'replaying' | 'comparing' | 'swapping' | 'done' | 'failed';

export interface RebuildReport {
  id: string;
  rebuildSchema: string;
  swapped: boolean;
  replayMs: number;
  /** Some partition no longer starts at offset 0: events removed by retention are missing. */
  truncated: boolean;
  /** Messages the replay could not decode or apply (counted, not dead-lettered again). */
  skipped: number;
  /** Events applied (new to the rebuild schema). */
  applied: number;
  /** Checksum of the rebuilt facts (taken before any swap). */
  rebuilt: AnalyticsChecksum;
  /** Checksum of the live facts at the same moment (live writes held), when not swapping. */
  live: AnalyticsChecksum | null;
  equal: boolean | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `20260302T010203z_ab12`: a schema-name-safe rebuild id. */
export function rebuildId(now: Date, random: number): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase()}_${Math.floor(random * 0xffff).toString(16).padStart(4, '0')}`;
}

async function checkpoints(pool: Pool | { query: Pool['query'] }, schema: string): Promise<Map<string, number>> {
  const rows = (await pool.query(`SELECT "topic", "partition", "offset"::text AS "offset" FROM ${table(schema, 'checkpoint')}`)).rows as { topic: string; partition: number; offset: string }[];
  return new Map(rows.map((r) => [`${r.topic}#${r.partition}`, Number(r.offset)]));
}

/**
 * Replays its topics (ANALYTICS_TOPICS) from offset 0 into a fresh schema `analytics_rb_<id>` with the same fact
 * store as the live consumer (docs/adr/0007, after tracking's ADR 0006):
 * 1. a new consumer group (`runBatchConsumer`, one transaction per chunk) reads every topic from
 *    the beginning until each partition's end as seen at start;
 * 2. without swap: takes the swap lock exclusively (live writes wait, reads go on), lets the replay
 *    pass the live checkpoints, hashes both schemas, releases: the two checksums cover the same events;
 * 3. with swap: the same, then renames `analytics` away and the rebuild schema to `analytics`.
 */
export async function rebuildAnalytics(options: RebuildOptions): Promise<RebuildReport> {
  const { pool, id } = options;
  const shadow = `${ANALYTICS_SCHEMA}_rb_${id}`;
  const old = `${ANALYTICS_SCHEMA}_old_${id}`;
  quoteSchema(shadow);
  quoteSchema(old);
  const logger = options.logger ?? stderrLogger;
  const names = new TopicNames(options.topicPrefix);
  const phase = (p: RebuildPhase) => options.onProgress?.({ id, phase: p });
  const t0 = Date.now();
  phase('starting');
  const lockClient = await pool.connect();
  const admin = options.kafka.admin();
  const group = `${options.topicPrefix}analytics-rebuild-${id}`;
  let handle: ConsumerHandle | null = null;
  try {
    const [{ locked }] = (await lockClient.query('SELECT pg_try_advisory_lock($1) AS locked', [ANALYTICS_REBUILD_LOCK])).rows;
    if (!locked) throw new DomainError('REBUILD_IN_PROGRESS', 'another rebuild of the analytics facts is running', {}, 'conflict');
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(shadow)} CASCADE`);
    await ensureAnalyticsSchema(pool, shadow);
    await ensureAnalyticsSchema(pool, ANALYTICS_SCHEMA);

    await admin.connect();
    const targets = new Map<string, number>();
    let truncated = false;
    for (const topic of ANALYTICS_TOPICS) {
      for (const p of await admin.fetchTopicOffsets(names.physical(topic))) {
        if (Number(p.low) > 0) truncated = true;
        if (Number(p.high) > Number(p.low)) targets.set(`${topic}#${p.partition}`, Number(p.high) - 1);
      }
    }
    if (truncated) logger.warn('analytics rebuild: a topic no longer starts at offset 0; events removed by retention are missing', { id });

    const store = new FactStore(shadow, { swapLock: false });
    phase('replaying');
    const transactions = pgTransactions(pool);
    handle = await runBatchConsumer({
      kafka: options.kafka,
      // A replay that gives up fails the rebuild, not the live service.
      restartProcessOnFatal: false,
      groupId: group,
      topics: ANALYTICS_TOPICS,
      topicPrefix: options.topicPrefix,
      fromBeginning: true,
      partitionsConsumedConcurrently: 4,
      maxMessages: 2_000,
      // Progress (and the swap's wait, holding live writes) is read from the group's committed
      // offsets: committed after every batch, not on the live consumers' interval (ADR 0022).
      commitIntervalMs: 0,
      maxRetries: 2,
      accept: (envelope) => isProjected(envelope),
      // The live consumer dead-letters what cannot be applied; the replay only counts it.
      deadLetterPublisher: null,
      logger,
      processBatch: (items) => transactions.run((tx) => store.applyBatch(tx, items)),
    });

    // Progress is read from the group's committed offsets, not the schema's checkpoints: a
    // duplicate, or an event that changes no fact, moves no checkpoint but is committed.
    const passed = async (goal: Map<string, number>) => {
      const got = new Map<string, number>();
      for (const t of await admin.fetchOffsets({ groupId: group, topics: ANALYTICS_TOPICS.map((x) => names.physical(x)) })) {
        for (const p of t.partitions) got.set(`${names.logical(t.topic)}#${p.partition}`, Number(p.offset) - 1);
      }
      return [...goal].every(([k, off]) => (got.get(k) ?? -1) >= off);
    };
    const until = Date.now() + (options.catchUpTimeoutMs ?? 30 * 60_000);
    while (!(await passed(targets))) {
      if (Date.now() > until) throw new Error('analytics rebuild: timed out replaying the topics');
      await sleep(200);
    }
    const replayMs = Date.now() - t0;
    // Messages the replay could not apply (the live consumer dead-lettered them too): never swap an incomplete copy.
    const skipped = handle.stats.deadLettered;
    if (options.swap && skipped > 0) {
      throw new DomainError('REBUILD_INCOMPLETE', `${skipped} message(s) could not be applied during the replay (see the logs); not swapping`, { skipped, schema: shadow }, 'conflict');
    }

    phase(options.swap ? 'swapping' : 'comparing');
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [ANALYTICS_SWAP_LOCK]);
      // Live writes are held: let the replay pass everything live applied, then stop it.
      const live = await checkpoints(c, ANALYTICS_SCHEMA);
      const swapUntil = Date.now() + (options.swapTimeoutMs ?? 30_000);
      while (!(await passed(live))) {
        if (Date.now() > swapUntil) throw new Error('analytics rebuild: the replay did not pass the live checkpoints in time');
        await sleep(50);
      }
      const stats = { ...handle.stats };
      await handle.stop();
      handle = null;
      const inTx = { run: <T>(fn: (tx: typeof c) => Promise<T>) => fn(c) };
      const rebuilt = await analyticsChecksum(inTx, shadow);
      let liveSum: AnalyticsChecksum | null = null;
      if (options.swap) {
        await c.query(`ALTER SCHEMA ${quoteSchema(ANALYTICS_SCHEMA)} RENAME TO ${quoteSchema(old)}`);
        await c.query(`ALTER SCHEMA ${quoteSchema(shadow)} RENAME TO ${quoteSchema(ANALYTICS_SCHEMA)}`);
      } else {
        liveSum = await analyticsChecksum(inTx, ANALYTICS_SCHEMA);
      }
      await c.query('COMMIT');
      if (options.swap) await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(old)} CASCADE`);
      else if (!options.keepRebuild) await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(shadow)} CASCADE`);
      phase('done');
      return {
        id,
        rebuildSchema: shadow,
        swapped: options.swap ?? false,
        replayMs,
        truncated,
        skipped,
        applied: stats.applied,
        rebuilt: { ...rebuilt, schema: options.swap ? ANALYTICS_SCHEMA : shadow },
        live: liveSum,
        equal: liveSum ? liveSum.checksum === rebuilt.checksum : null,
      };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  } catch (e) {
    phase('failed');
    throw e;
  } finally {
    if (handle) await handle.stop().catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await lockClient.query('SELECT pg_advisory_unlock($1)', [ANALYTICS_REBUILD_LOCK]).catch(() => undefined);
    lockClient.release();
  }
}
