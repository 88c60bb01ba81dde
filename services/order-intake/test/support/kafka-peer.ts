import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@flowline/contracts';
import { createKafka, decodeEnvelope, EventPublisher, TopicNames } from '@flowline/messaging';
import { kafkaBrokers, uniqueSuffix } from '@flowline/testing';
import type { Consumer, Kafka } from 'kafkajs';

export interface Seen {
  topic: string;
  key: string | null;
  envelope: EventEnvelope;
}

/**
 * The other side of order-intake's Kafka traffic in a test: it records every message on the
 * topics it watches (the commands order-intake sends to inventory, approval and fulfillment,
 * and orders.events.v1) and publishes the events those contexts would send back.
 */
export class KafkaPeer {
  readonly seen: Seen[] = [];
  private readonly kafka: Kafka;
  private readonly names: TopicNames;
  private consumer: Consumer | null = null;
  private publisher: EventPublisher | null = null;

  constructor(private readonly prefix: string) {
    this.kafka = createKafka({ brokers: kafkaBrokers(), clientId: `peer-${uniqueSuffix()}` });
    this.names = new TopicNames(prefix);
  }

  /** Starts watching the (logical) topics from their beginning. The topics must exist. */
  async watch(topics: string[]): Promise<void> {
    this.consumer = this.kafka.consumer({ groupId: `peer-${uniqueSuffix()}`, maxWaitTimeInMs: 200 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: topics.map((t) => this.names.physical(t)), fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        this.seen.push({ topic: this.names.logical(topic), key: message.key?.toString('utf8') ?? null, envelope: decodeEnvelope(message.value) });
      },
    });
    this.publisher = new EventPublisher({ kafka: this.kafka, topicPrefix: this.prefix });
    await this.publisher.connect();
  }

  /** Messages of one type for one order (on any watched topic). */
  find(type: string, orderId: string): Seen[] {
    return this.seen.filter((s) => s.envelope.type === type && (s.envelope.data as { orderId?: string }).orderId === orderId);
  }

  /** Waits until a message of `type` for `orderId` has been seen (returns the first). */
  async waitFor(type: string, orderId: string, timeoutMs = 30_000): Promise<Seen> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const hit = this.find(type, orderId)[0];
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${type} for ${orderId} within ${timeoutMs} ms; seen: ${this.seen.map((s) => `${s.topic}:${s.envelope.type}`).join(', ')}`);
  }

  /** Publishes an event as `context` would (envelope with a fresh id unless given). */
  async publish(topic: string, type: string, data: { orderId: string } & Record<string, unknown>, eventId: string = randomUUID()): Promise<string> {
    const envelope: EventEnvelope = {
      eventId,
      type,
      schemaVersion: 1,
      streamId: `peer-${data.orderId}`,
      streamPosition: 0,
      occurredAt: new Date().toISOString(),
      correlationId: data.orderId,
      causationId: null,
      data,
    };
    if (!this.publisher) throw new Error('call watch() first');
    await this.publisher.publish([{ topic, key: data.orderId, envelope }]);
    return eventId;
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    await this.publisher?.disconnect();
  }
}
