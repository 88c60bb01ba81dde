import { deadLetterTopic, topicConfig } from '@flowline/contracts';
import type { Admin } from 'kafkajs';

/**
 * Maps logical topic names (`Topics.orderEvents`) to physical ones. The prefix lets several test
 * files (or environments) share one broker without seeing each other's messages.
 */
export class TopicNames {
  constructor(readonly prefix: string = '') {}

  /** Physical name of a logical topic. */
  physical(topic: string): string {
    return `${this.prefix}${topic}`;
  }

  /** Logical name of a physical topic (the inverse of {@link physical}). */
  logical(topic: string): string {
    return this.prefix && topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
  }

  /** Physical name of the dead-letter topic of a logical topic. */
  deadLetter(topic: string): string {
    return this.physical(deadLetterTopic(topic));
  }
}

export interface EnsureTopicsOptions {
  /** Partitions of each created topic (the partition count decides per-key ordering; set it once). */
  partitions: number;
  /** Prefix for every name (default none). */
  prefix?: string;
  /** Also create `<topic>.dlq` for each topic (default true). */
  deadLetters?: boolean;
  /** Partitions of the dead-letter topics (default: same as `partitions`). */
  deadLetterPartitions?: number;
  replicationFactor?: number;
  /**
   * Extra topic configs, e.g. `{ 'retention.ms': '604800000' }`, on top of each topic's own
   * settings from the contracts (`topicConfig`: event topics keep everything).
   */
  configEntries?: Record<string, string>;
  /** How long to wait for every partition of a created topic to have a leader (default 30 s). */
  leaderTimeoutMs?: number;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics whose partition count differs from the request (never changed automatically: it would move keys). */
  mismatched: { topic: string; partitions: number; expected: number }[];
}

/**
 * Creates the given (logical) topics and their dead-letter topics with explicit partition
 * counts. Idempotent and safe to race: topics that already exist are left alone.
 */
export async function ensureTopics(admin: Admin, topics: readonly string[], options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const names = new TopicNames(options.prefix ?? '');
  const wanted = new Map<string, number>();
  for (const t of topics) {
    wanted.set(names.physical(t), options.partitions);
    if (options.deadLetters !== false) wanted.set(names.deadLetter(t), options.deadLetterPartitions ?? options.partitions);
  }
  const configEntriesOf = (physical: string) =>
    Object.entries({ ...topicConfig(names.logical(physical)), ...options.configEntries }).map(([name, value]) => ({ name, value }));

  const created: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const existing = new Set(await admin.listTopics());
    const missing = [...wanted.keys()].filter((t) => !existing.has(t));
    if (missing.length === 0) break;
    try {
      // kafkajs' own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker
      // answers until its metadata cache has the new topic (tulios/kafkajs#1563); wait here instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: wanted.get(topic)!,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: configEntriesOf(topic),
        })),
      });
      created.push(...missing);
      await waitForLeaders(admin, missing, options.leaderTimeoutMs ?? 30_000);
      break;
    } catch (e) {
      // Another process created some of them between listTopics and createTopics: look again.
      if (attempt < 3 && isAlreadyExists(e)) continue;
      throw e;
    }
  }

  const existingNames = [...wanted.keys()].filter((t) => !created.includes(t));
  const mismatched: EnsureTopicsResult['mismatched'] = [];
  if (existingNames.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: existingNames });
    for (const t of meta.topics) {
      const expected = wanted.get(t.name)!;
      if (t.partitions.length !== expected) mismatched.push({ topic: t.name, partitions: t.partitions.length, expected });
    }
  }
  return { created, existing: existingNames, mismatched };
}

const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION']);

/** Polls metadata until every partition of `topics` has a leader. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const ready = meta.topics.length === topics.length && meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (e) {
      if (!NOT_YET.has((e as { type?: string }).type ?? '')) throw e;
    }
    if (Date.now() > until) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isAlreadyExists(e: unknown): boolean {
  const err = e as { type?: string; errors?: { type?: string }[] };
  return err?.type === 'TOPIC_ALREADY_EXISTS' || (Array.isArray(err?.errors) && err.errors.some((x) => x?.type === 'TOPIC_ALREADY_EXISTS'));
}

/**
 * Whether consumer group `groupId` has committed an offset on any partition of `topics` (physical
 * names): a group that has resumes where it stopped, whatever `fromBeginning` says.
 */
export async function groupHasOffsets(admin: Admin, groupId: string, topics: readonly string[]): Promise<boolean> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [...topics] });
  return offsets.some((t) => t.partitions.some((p) => Number(p.offset) >= 0));
}
