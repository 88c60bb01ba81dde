import { Topics, type EventEnvelope, type InventoryEventDataMap } from '@flowline/contracts';
import { createKafka, pgTransactions, runConsumer, type ConsumerHandle, type PgTransaction } from '@flowline/messaging';
import type { Pool } from 'pg';
import type { StockPushService } from '../../application/stock-push.service';

/**
 * inventory.events.v1 -> AvailableToPromiseChanged recorded for the stock pusher (translation only;
 * the inbox dedupes by eventId). Group `<KAFKA_TOPIC_PREFIX>channel-gateway.atp`.
 */
export async function startAtpConsumer(pool: Pool, stock: StockPushService, topicPrefix: string): Promise<ConsumerHandle> {
  return runConsumer<PgTransaction>({
    kafka: createKafka({ clientId: 'channel-gateway' }),
    groupId: `${topicPrefix}channel-gateway.atp`,
    topics: [Topics.inventoryEvents],
    topicPrefix,
    transactions: pgTransactions(pool),
    // Most of inventory.events.v1 is reservations and stock levels: dropped on the type header unparsed.
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
    handler: async (envelope: EventEnvelope, tx, message) => {
      const data = envelope.data as InventoryEventDataMap['AvailableToPromiseChanged'];
      // ATP events are keyed by SKU, so one SKU's changes share a partition: its offset orders them.
      await stock.recordAtp(tx, data, Number(message.offset) + 1);
    },
  });
}
