import './kafkajs-patch';
import type { EventEnvelope } from '@flowline/contracts';
import { createRequire } from 'node:module';
import { CompressionTypes, Partitioners, type Admin, type Kafka, type Message, type Producer, type RetryOptions } from 'kafkajs';
import { backoffDelay, sleep } from '../backoff';
import { errorMessage, stderrLogger, type MessagingLogger } from '../logger';
import { cloudEventHeaders } from './cloudevents';
import { encodeEnvelope, envelopeHeaders, Headers } from './headers';
import { TopicNames } from './topics';
import { traceHeaders } from './tracing';

/** One integration message: the envelope goes out as JSON, keyed (order id, SKU) for per-key order. */
export interface OutboundMessage {
  /** Logical topic (`Topics.orderEvents`); the publisher adds its prefix. */
  topic: string;
  key: string;
  envelope: EventEnvelope;
  /** W3C traceparent to send; default: the active OpenTelemetry context. */
  traceparent?: string;
  tracestate?: string;
  /** Extra headers (strings). */
  headers?: Record<string, string>;
}

/** A raw message (dead letters, tests): value bytes and headers are sent as given. */
export interface RawOutboundMessage {
  /** Physical topic name (no prefix is added). */
  topic: string;
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
}

export interface EventPublisherOptions {
  kafka: Kafka;
  topicPrefix?: string;
  /** Most messages per produce request (default 500). Concurrent publishes are coalesced up to this. */
  maxBatchSize?: number;
  /**
   * Producer retries. Default: retry until the broker answers (kafkajs' idempotent default, with
   * waits of 100 ms growing to 5 s); a bounded count may drop the EoS guarantee.
   */
  retry?: RetryOptions;
  compression?: CompressionTypes;
  /**
   * How long a batch keeps being re-sent after kafkajs gave up on a broker outage (default 120 s).
   * kafkajs' nested retriers turn a long outage into a "non-retriable" error; the batch is then
   * sent again unchanged, which the broker de-duplicates (same producer id and sequences).
   */
  outageRetryMs?: number;
  /**
   * Idempotent producers sending in parallel, each serving a share of the partitions (default
   * `KAFKA_PUBLISH_LANES`, else 4; 1 = one request in flight, no metadata lookup). Lanes after the
   * first connect on first use.
   */
  lanes?: number;
  logger?: MessagingLogger;
}

const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

/** True when the deepest cause is a connection problem or a retriable broker error. */
export function isTransientKafkaError(e: unknown): boolean {
  let root = e as { name?: string; retriable?: boolean; cause?: unknown } | undefined;
  for (let i = 0; i < 10 && root?.cause && root.cause !== root; i++) root = root.cause as typeof root;
  if (!root) return false;
  if (TRANSIENT.has(root.name ?? '')) return true;
  return root.name === 'KafkaJSProtocolError' && root.retriable === true;
}

/** kafkajs' own murmur2 (what its DefaultPartitioner hashes keys with). */
const murmur2 = createRequire(__filename)('kafkajs/src/producer/partitioners/default/murmur2') as (key: string | Buffer) => number;

interface Pending {
  messages: { topic: string; message: Message }[];
  resolve(): void;
  reject(e: unknown): void;
}

/** One idempotent producer with its own queue: one produce request in flight per lane. */
interface Lane {
  producer: Producer;
  queue: Pending[];
  draining: boolean;
  /** Set once the lane's producer connects (lanes other than the first connect on first use). */
  connecting: Promise<void> | null;
}

/** Lanes per publisher: `KAFKA_PUBLISH_LANES` (default 4). */
export function publishLanesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KAFKA_PUBLISH_LANES);
  return Number.isInteger(n) && n >= 1 && n <= 32 ? n : 4;
}

const toPositive = (x: number) => x & 0x7fffffff;

/**
 * The partition kafkajs' default (Java-compatible murmur2) partitioner gives a keyed message, for
 * a topic of `partitions` partitions; undefined for a message without a key.
 */
export function partitionOf(key: string | Buffer | null | undefined, partitions: number): number | undefined {
  if (key === null || key === undefined) return undefined;
  return toPositive(murmur2(key)) % partitions;
}

/** The lane that carries a partition: every message of one partition goes through one lane. */
export function laneOf(partition: number | undefined, lanes: number): number {
  return partition === undefined || lanes <= 1 ? 0 : partition % lanes;
}

/**
 * Idempotent Kafka producer (acks=all) writing Flowline envelopes with their headers.
 *
 * Several produce requests in flight, per-partition order kept: each message's partition is
 * computed here with kafkajs' murmur2 partitioner (the topic's partition count read once), every
 * partition is served by one of `lanes` idempotent producers, and each lane sends one request at a
 * time. So a partition receives its messages in publish order exactly as with one producer (keys
 * included); only different partitions progress independently, which Kafka never ordered. kafkajs assigns idempotence sequence numbers per request and rewinds them
 * when a request fails; with two requests of one producer in flight a failed one could hand its
 * numbers to the next and the broker would drop a batch as a "duplicate" (kafkajs also serialises
 * an idempotent producer's requests per broker). One request in flight per lane keeps every retry
 * byte-identical (kafkajs' own retries and ours after a long outage), so a retried batch the broker
 * already wrote is de-duplicated, never lost or written twice; lanes have their own producer ids
 * and sequences, so they never interfere. Concurrent `publish` calls are coalesced per lane (the
 * batching kafkajs lacks: no linger.ms). A lane whose batch fails rejects what was queued behind
 * it too, so a later message of a partition is never written before an earlier one that failed. One
 * publish spanning lanes resolves when every lane acknowledged; when one lane fails, the others
 * may have written theirs: a re-publish repeats them, which consumers absorb (by event id). With
 * several brokers a batch spans leaders, and re-sending it after kafkajs gave up may repeat the
 * partitions one leader already acknowledged: a duplicate, never a loss.
 */
export class EventPublisher {
  /** The first lane's producer. */
  readonly producer: Producer;
  readonly names: TopicNames;
  private readonly maxBatchSize: number;
  private readonly compression: CompressionTypes;
  private readonly outageRetryMs: number;
  private readonly logger: MessagingLogger;
  private readonly lanes: Lane[];
  /** Partition count per physical topic (read once: partitions are never changed, see topics.ts). */
  private readonly partitionCounts = new Map<string, number>();
  private admin: Admin | null = null;
  /** Publishes waiting for a topic's partition count, in call order (so later ones never overtake). */
  private enqueueChain: Promise<void> = Promise.resolve();
  private waiting = 0;
  private connected = false;
  private closing = false;

  constructor(private readonly options: EventPublisherOptions) {
    this.names = new TopicNames(options.topicPrefix ?? '');
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.compression = options.compression ?? CompressionTypes.None;
    this.outageRetryMs = options.outageRetryMs ?? 120_000;
    this.logger = options.logger ?? stderrLogger;
    const count = options.lanes ?? publishLanesFromEnv();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`EventPublisher lanes must be a positive integer, got ${count}`);
    this.lanes = Array.from({ length: count }, () => ({ producer: this.createProducer(), queue: [], draining: false, connecting: null }));
    this.producer = this.lanes[0].producer;
  }

  private createProducer(): Producer {
    return this.options.kafka.producer({
      idempotent: true,
      // kafkajs only guarantees idempotent ordering with one request in flight per broker.
      maxInFlightRequests: 1,
      // Java-compatible murmur2 on the key: every message of one order lands on one partition.
      // Chosen explicitly, which also silences kafkajs' "default partitioner changed" warning.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: this.options.retry ?? { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
  }

  /** Connects the first lane; the others connect when they first carry a message. */
  async connect(): Promise<void> {
    if (this.connected) return;
    const first = this.lanes[0];
    first.connecting = first.producer.connect();
    try {
      await first.connecting;
    } catch (e) {
      first.connecting = null;
      throw e;
    }
    this.connected = true;
    this.closing = false;
  }

  async disconnect(): Promise<void> {
    // Let queued publishes finish first (a batch stuck in an outage gives up instead of retrying).
    this.closing = true;
    while (this.lanes.some((l) => l.draining || l.queue.length > 0)) await new Promise((r) => setTimeout(r, 5));
    while (this.waiting > 0) await new Promise((r) => setTimeout(r, 5));
    if (!this.connected) return;
    this.connected = false;
    const admin = this.admin;
    this.admin = null;
    await admin?.disconnect().catch(() => undefined);
    await Promise.all(
      this.lanes.map(async (l) => {
        if (!l.connecting) return;
        const was = l.connecting;
        l.connecting = null;
        // A lane whose connect failed has nothing to close.
        if (await was.then(() => true, () => false)) await l.producer.disconnect();
      }),
    );
  }

  /** Builds the Kafka message for an envelope (value = envelope JSON; headers from the envelope + trace). */
  toKafkaMessage(m: OutboundMessage): { topic: string; message: Message } {
    const trace = m.traceparent ? { traceparent: m.traceparent, tracestate: m.tracestate } : traceHeaders();
    return {
      topic: this.names.physical(m.topic),
      message: {
        key: m.key,
        value: encodeEnvelope(m.envelope),
        headers: envelopeHeaders(m.envelope, {
          ...cloudEventHeaders(m.envelope),
          ...m.headers,
          [Headers.traceparent]: trace.traceparent,
          [Headers.tracestate]: trace.tracestate,
        }),
      },
    };
  }

  /** Publishes envelopes; resolves once the broker acknowledged every one (acks=all). */
  publish(messages: OutboundMessage[]): Promise<void> {
    return this.enqueue(messages.map((m) => this.toKafkaMessage(m)));
  }

  /** Publishes raw messages to physical topics (used for dead letters). */
  publishRaw(messages: RawOutboundMessage[]): Promise<void> {
    return this.enqueue(messages.map((m) => ({ topic: m.topic, message: { key: m.key, value: m.value, headers: m.headers } })));
  }

  private enqueue(messages: { topic: string; message: Message }[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    if (!this.connected) return Promise.reject(new Error('EventPublisher is not connected'));
    if (this.lanes.length === 1) return this.toLanes(messages);
    const unknown = [...new Set(messages.map((m) => m.topic))].filter((t) => !this.partitionCounts.has(t));
    // Fast path: every topic known and nobody waiting ahead, so call order is queue order.
    if (unknown.length === 0 && this.waiting === 0) return this.toLanes(messages);
    this.waiting++;
    const queued = this.enqueueChain.then(async () => {
      try {
        await this.loadPartitionCounts(unknown);
      } finally {
        this.waiting--;
      }
      return { sent: this.toLanes(messages) };
    });
    this.enqueueChain = queued.then(
      () => undefined,
      () => undefined,
    );
    return queued.then((q) => q.sent);
  }

  private async loadPartitionCounts(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !this.partitionCounts.has(t));
    if (missing.length === 0) return;
    if (!this.admin) {
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const meta = await this.admin.fetchTopicMetadata({ topics: missing });
    for (const t of meta.topics) if (t.partitions.length > 0) this.partitionCounts.set(t.name, t.partitions.length);
    const still = missing.filter((t) => !this.partitionCounts.has(t));
    if (still.length > 0) throw new Error(`no partitions known for ${still.join(', ')}`);
  }

  /** Splits by lane (the partition's), keeping call order within each lane, and queues. */
  private toLanes(messages: { topic: string; message: Message }[]): Promise<void> {
    const perLane = new Map<number, { topic: string; message: Message }[]>();
    for (const m of messages) {
      let lane = 0;
      const count = this.partitionCounts.get(m.topic);
      if (this.lanes.length > 1 && count !== undefined && (m.message.partition === undefined || m.message.partition === null)) {
        const partition = partitionOf(m.message.key, count);
        if (partition !== undefined) m.message.partition = partition; // what kafkajs' partitioner would pick
        lane = laneOf(partition, this.lanes.length);
      } else if (this.lanes.length > 1 && typeof m.message.partition === 'number') {
        lane = laneOf(m.message.partition, this.lanes.length);
      }
      let list = perLane.get(lane);
      if (!list) perLane.set(lane, (list = []));
      list.push(m);
    }
    return Promise.all(
      [...perLane].map(
        ([index, list]) =>
          new Promise<void>((resolve, reject) => {
            const lane = this.lanes[index];
            lane.queue.push({ messages: list, resolve, reject });
            if (!lane.draining) void this.drain(lane);
          }),
      ),
    ).then(() => undefined);
  }

  private async drain(lane: Lane): Promise<void> {
    lane.draining = true;
    try {
      while (lane.queue.length > 0) {
        // Take whole publish calls (never split one) up to maxBatchSize messages.
        const batch: Pending[] = [];
        let count = 0;
        while (lane.queue.length > 0 && (batch.length === 0 || count + lane.queue[0].messages.length <= this.maxBatchSize)) {
          const p = lane.queue.shift()!;
          batch.push(p);
          count += p.messages.length;
        }
        const byTopic = new Map<string, Message[]>();
        for (const p of batch) for (const { topic, message } of p.messages) {
          let list = byTopic.get(topic);
          if (!list) byTopic.set(topic, (list = []));
          list.push(message);
        }
        const topicMessages = [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
        const started = Date.now();
        for (let attempt = 0; ; attempt++) {
          try {
            lane.connecting ??= lane.producer.connect();
            await lane.connecting.catch((e: unknown) => {
              lane.connecting = null;
              throw e;
            });
            await lane.producer.sendBatch({ acks: -1, compression: this.compression, topicMessages });
            for (const p of batch) p.resolve();
            break;
          } catch (e) {
            // Re-sending is safe only because nothing else was sent on this lane meanwhile: kafkajs
            // rewound the sequence numbers of the failed request, so the retry is byte-identical.
            if (this.closing || !isTransientKafkaError(e) || Date.now() - started > this.outageRetryMs) {
              // What queued behind the failed batch is refused too: sending it now could put a
              // later message of a key before an earlier one that was not written.
              const behind = lane.queue.splice(0, lane.queue.length);
              for (const p of [...batch, ...behind]) p.reject(e);
              break;
            }
            const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 2_000 });
            this.logger.warn('kafka publish failed; re-sending the same batch', { attempt: attempt + 1, delayMs: delay, messages: count, error: errorMessage(e) });
            await sleep(delay);
          }
        }
      }
    } finally {
      lane.draining = false;
    }
  }
}
