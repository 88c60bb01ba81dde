import { randomBytes } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { Headers, readHeaders } from '../kafka/headers';
import type { EventPublisher } from '../kafka/publisher';
import type { TopicNames } from '../kafka/topics';
import { gauge } from '../metrics';

/** Header a redriven message carries: the dead letter it came from (`<dlq topic>:<partition>:<offset>`). */
export const REDRIVEN_FROM_HEADER = 'dlq.redrivenFrom';

/** One message of a dead-letter topic, as `npm run dlq -- list|show` prints it. */
export interface DeadLetter {
  /** `<partition>:<offset>` in the dead-letter topic: what `--id` takes (an eventId works too). */
  id: string;
  partition: number;
  offset: string;
  key: string | null;
  /** From the envelope when it decodes. */
  eventId: string | null;
  type: string | null;
  reason: string;
  attempts: number | null;
  /** Physical topic the message failed on (where a redrive sends it). */
  sourceTopic: string;
  group: string | null;
  failedAt: string | null;
  headers: Record<string, string>;
  value: string | null;
}

function toDeadLetter(physicalDlq: string, partition: number, m: KafkaMessage): DeadLetter {
  const headers = readHeaders(m.headers);
  const value = m.value?.toString('utf8') ?? null;
  let eventId: string | null = null;
  let type: string | null = null;
  try {
    const e = JSON.parse(value ?? '') as { eventId?: unknown; type?: unknown };
    if (typeof e.eventId === 'string') eventId = e.eventId;
    if (typeof e.type === 'string') type = e.type;
  } catch {
    // Undecodable: that is usually why it is here.
  }
  const attempts = Number(headers[Headers.dlqAttempts]);
  return {
    id: `${partition}:${m.offset}`,
    partition,
    offset: m.offset,
    key: m.key?.toString('utf8') ?? null,
    eventId,
    type,
    reason: headers[Headers.dlqError] ?? '',
    attempts: Number.isFinite(attempts) && headers[Headers.dlqAttempts] !== undefined ? attempts : null,
    sourceTopic: headers[Headers.dlqTopic] ?? physicalDlq.replace(/\.dlq$/, ''),
    group: headers[Headers.dlqGroup] ?? null,
    failedAt: headers[Headers.dlqFailedAt] ?? null,
    headers,
    value,
  };
}

/** The topic named has no dead-letter topic on the broker (a typo, or a topic that never had one). */
export class DeadLetterTopicNotFound extends Error {
  constructor(readonly topic: string) {
    super(`no dead-letter topic ${topic} on the broker`);
    this.name = 'DeadLetterTopicNotFound';
  }
}

/**
 * Reads every message of the dead-letter topic of `topic` (logical source topic, or its `.dlq`)
 * up to its current end, with a throwaway consumer group deleted afterwards.
 */
export async function readDeadLetters(kafka: Kafka, admin: Admin, names: TopicNames, topic: string, timeoutMs = 30_000): Promise<DeadLetter[]> {
  const physical = names.physical(topic.endsWith('.dlq') ? topic : `${topic}.dlq`);
  // Asked first: offsets of a topic the broker does not have are retried for many seconds, then fail obscurely.
  if (!(await admin.listTopics()).includes(physical)) throw new DeadLetterTopicNotFound(physical);
  const offsets = await admin.fetchTopicOffsets(physical);
  const ends = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  const pending = new Set(offsets.filter((p) => Number(p.high) > Number(p.low)).map((p) => p.partition));
  const out: DeadLetter[] = [];
  if (pending.size === 0) return out;
  const groupId = `flowline-dlq-reader-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [physical], fromBeginning: true });
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) >= end) continue;
          out.push(toDeadLetter(physical, batch.partition, m));
          if (Number(m.offset) === end - 1) pending.delete(batch.partition);
        }
        if (pending.size === 0) finish();
      },
    });
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out reading ${physical}`)), timeoutMs).unref())]);
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Picks dead letters by `<partition>:<offset>` id or eventId (all when `all`). */
export function selectDeadLetters(letters: DeadLetter[], ids: string[], all: boolean): DeadLetter[] {
  if (all) return letters;
  const wanted = new Set(ids);
  const found = letters.filter((l) => wanted.has(l.id) || (l.eventId !== null && wanted.has(l.eventId)));
  const missing = ids.filter((id) => !found.some((l) => l.id === id || l.eventId === id));
  if (missing.length) throw new Error(`no dead letter with id ${missing.join(', ')}`);
  return found;
}

/**
 * Sends dead letters back to the topic they failed on, with their original key, value and headers
 * (the `dlq.*` ones dropped, `dlq.redrivenFrom` added). Idempotent by design: consumers dedupe by
 * eventId in their inbox, so a message applied before (or redriven twice) is applied once.
 */
export async function redriveDeadLetters(publisher: EventPublisher, physicalDlq: string, letters: DeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  await publisher.publishRaw(
    letters.map((l) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(l.headers)) if (!k.startsWith('dlq.')) headers[k] = v;
      headers[REDRIVEN_FROM_HEADER] = `${physicalDlq}:${l.id}`;
      return { topic: l.sourceTopic, key: l.key, value: l.value === null ? null : Buffer.from(l.value, 'utf8'), headers };
    }),
  );
  return letters.length;
}

/** Something that can count dead letters per topic (a service's admin client and its topic prefix). */
export interface DeadLetterSource {
  names: TopicNames;
  admin: Pick<Admin, 'listTopics' | 'fetchTopicOffsets'>;
}

const SOURCES = Symbol.for('flowline.messaging.dlq-sources');

export function deadLetterSources(): Set<DeadLetterSource> {
  const g = globalThis as unknown as Record<symbol, Set<DeadLetterSource> | undefined>;
  return (g[SOURCES] ??= new Set());
}

/** Messages in a dead-letter topic (high - low watermark summed over partitions). */
export async function countDeadLetters(admin: Pick<Admin, 'fetchTopicOffsets'>, physicalDlq: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(physicalDlq);
  return offsets.reduce((n, p) => n + Math.max(0, Number(p.high) - Number(p.low)), 0);
}

/**
 * `flowline_dlq_messages{topic}`: messages in each registered dead-letter topic, measured on
 * scrape (alert when it grows; `npm run dlq -- list <topic>` shows them): every `*.dlq` topic of
 * the registered sources' prefix ({@link registerDeadLetterSource}).
 */
export function dlqMessagesGauge() {
  return gauge({
    name: 'flowline_dlq_messages',
    help: 'Messages in the dead-letter topic (<topic>.dlq), measured on scrape',
    labelNames: ['topic'] as const,
    async collect() {
      for (const source of deadLetterSources()) {
        // Only the dead-letter topics that exist (of this prefix): a missing one would cost retries.
        const topics = await source.admin.listTopics().catch(() => [] as string[]);
        const own = topics.filter((t) => t.endsWith('.dlq') && t.startsWith(source.names.prefix) && (source.names.prefix !== '' || !/^t[0-9a-f]+[._]/.test(t)));
        for (const physical of own) {
          const n = await countDeadLetters(source.admin, physical).catch(() => null);
          if (n !== null) this.set({ topic: physical }, n);
        }
      }
    },
  });
}

export function registerDeadLetterSource(source: DeadLetterSource): () => void {
  dlqMessagesGauge();
  deadLetterSources().add(source);
  return () => deadLetterSources().delete(source);
}
