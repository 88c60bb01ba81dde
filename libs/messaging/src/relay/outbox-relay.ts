import type { Admin, Kafka } from 'kafkajs';
import { EventPublisher } from '../kafka/publisher';
import { EventRelay, relayCheckpointIntervalFromEnv, type EventRelayOptions } from './event-relay';

/** Runs `fn` with an admin client connected for the call only (topics, group offsets); disconnected whatever happens. */
export async function withKafkaAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A service's outbox on Kafka: the publisher and the relay that feeds it from the service's event log. */
export interface OutboxRelay {
  readonly publisher: EventPublisher;
  readonly relay: EventRelay;
  /** Stops the relay (publishing what it has in hand), then disconnects the publisher. */
  stop(): Promise<void>;
}

/**
 * Connects the publisher, then starts the relay (`checkpointIntervalMs` defaults to
 * RELAY_CHECKPOINT_INTERVAL_MS). A relay that fails to start leaves no connected publisher behind.
 */
export async function startOutboxRelay(kafka: Kafka, options: Omit<EventRelayOptions, 'publisher'> & { topicPrefix?: string }): Promise<OutboxRelay> {
  const { topicPrefix, ...relayOptions } = options;
  const publisher = new EventPublisher({ kafka, topicPrefix });
  await publisher.connect();
  const relay = new EventRelay({ checkpointIntervalMs: relayCheckpointIntervalFromEnv(), ...relayOptions, publisher });
  try {
    await relay.start();
  } catch (e) {
    await relay.stop().catch(() => undefined);
    await publisher.disconnect().catch(() => undefined);
    throw e;
  }
  return {
    publisher,
    relay,
    async stop() {
      try {
        await relay.stop();
      } finally {
        await publisher.disconnect().catch(() => undefined);
      }
    },
  };
}
