import { Topics, type EventEnvelope, type InventoryEventDataMap } from '@flowline/contracts';
import { createKafka, ensureTopics, messagingConfigFromEnv, pgTransactions, runConsumer, withKafkaAdmin, type ConsumerHandle, type PgTransaction } from '@flowline/messaging';
import type { Pool } from 'pg';
import type { StockPushService } from '../../application/stock-push.service';

/**
 * Where a figure's version starts: above every Kafka offset + 1 an earlier build recorded as the
 * version (ADR 0023), so a figure ordered by its stream revision always replaces one of those, and
 * an earlier build still running during a rolling update can never replace a newer figure.
 */
export const ATP_REVISION_BASE = 2 ** 50;

/** The version of an ATP figure: its availability stream's revision (availability-<sku>), whatever topic or offset brought it. */
export function atpVersion(envelope: Pick<EventEnvelope, 'streamPosition'>): number {
  return ATP_REVISION_BASE + envelope.streamPosition;
}

/**
 * inventory.stock.v1 -> AvailableToPromiseChanged recorded for the stock pusher (translation only;
 * the inbox dedupes by eventId). Group `<KAFKA_TOPIC_PREFIX>channel-gateway.atp`. The stock facts
 * left inventory.events.v1 for their own topic (ADR 0023); the release after that switch stopped
 * reading the old topic (the figures published there before it are older revisions of the same
 * streams, so they could only lose to the ones already recorded).
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
    // A topic the group has no offsets on yet (inventory.stock.v1 after the switch) is read from its
    // start: no figure published before the first join is skipped; older ones lose on their revision.
    fromBeginning: true,
    // Stock levels, receipts and alerts are dropped on the type header unparsed.
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
      // A SKU's figures are the events of its availability stream: their revision orders them
      // (the Kafka offset did, until ADR 0023: rows from then are below ATP_REVISION_BASE).
      await stock.recordAtp(tx, data, atpVersion(envelope));
    },
  });
}
