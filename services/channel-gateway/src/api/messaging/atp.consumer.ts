import { Topics, type EventEnvelope, type InventoryEventDataMap } from '@flowline/contracts';
import { createKafka, ensureTopics, messagingConfigFromEnv, pgTransactions, runConsumer, withKafkaAdmin, type ConsumerHandle, type PgTransaction } from '@flowline/messaging';
import type { Pool } from 'pg';
import type { StockPushService } from '../../application/stock-push.service';

/**
 * inventory.stock.v1 -> AvailableToPromiseChanged recorded for the stock pusher (translation only;
 * the inbox dedupes by eventId). Group `<KAFKA_TOPIC_PREFIX>channel-gateway.atp`. The stock facts
 * left inventory.events.v1 for their own topic (ADR 0023): the reservation outcomes of every order
 * no longer reach this consumer.
 */
export async function startAtpConsumer(pool: Pool, stock: StockPushService, topicPrefix: string): Promise<ConsumerHandle> {
  const kafka = createKafka({ clientId: 'channel-gateway' });
  // The topic may not exist yet (inventory creates it too; which one boots first is open).
  await withKafkaAdmin(kafka, (admin) => ensureTopics(admin, [Topics.inventoryStock], { partitions: messagingConfigFromEnv().partitions, prefix: topicPrefix }));
  return runConsumer<PgTransaction>({
    kafka,
    groupId: `${topicPrefix}channel-gateway.atp`,
    topics: [Topics.inventoryStock],
    topicPrefix,
    transactions: pgTransactions(pool),
    // A new group reads the topic from its start: the figures published before it first joined are
    // not skipped (an ATP figure is a state; replaying old ones is ordered out by their revision).
    fromBeginning: true,
    // Stock levels and receipts are most of inventory.stock.v1: dropped on the type header unparsed.
    acceptType: (type) => type === 'AvailableToPromiseChanged',
    accept: (e) => e.type === 'AvailableToPromiseChanged',
    // Joined before start resolves: the module starts it in the background (startInBackground),
    // which retries a start that failed (the broker away) instead of giving up.
    awaitJoin: true,
    // Off the order's latency path (a platform's stock push runs on its own schedule): a fetch
    // waits up to 250 ms for 64 KiB, so the stream of reservations it drops unparsed comes in a
    // few large fetches instead of one per relay batch.
    minBytes: 64 * 1024,
    maxWaitTimeInMs: 250,
    handler: async (envelope: EventEnvelope, tx) => {
      const data = envelope.data as InventoryEventDataMap['AvailableToPromiseChanged'];
      // A SKU's figures are the events of its availability stream (availability-<sku>): their
      // revision orders them whichever topic or offset they came from (the Kafka offset did, until
      // the stock facts moved topic and offsets started again).
      await stock.recordAtp(tx, data, envelope.streamPosition + 1);
    },
  });
}
