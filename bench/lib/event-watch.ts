/**
 * Watches a Kafka topic for event types keyed by order id and records when each was first seen
 * (performance.now()). Positioned at the topic's end BEFORE the load starts (offsets read with the
 * admin client, then `seek`), so nothing published during the load is missed and nothing older is
 * read. Only the `type` header is looked at: no JSON parsing per message.
 */
import { logLevel, type Consumer } from 'kafkajs';
import { createKafka } from '../../libs/messaging/src/index';

export interface EventWatch {
  /** First time an event of `type` for `orderId` was seen, or undefined. */
  seenAt(type: string, orderId: string): number | undefined;
  /** Events of `type` seen so far. */
  count(type: string): number;
  /** Every first sighting of `type`, in arrival order (for rates over a window). */
  times(type: string): number[];
  stop(): Promise<void>;
}

export async function watchEvents(topic: string, types: readonly string[], label: string): Promise<EventWatch> {
  // createKafka: the same client as the services, with kafkajs' idle request-queue timer fixed
  // (libs/messaging kafkajs-patch); raw kafkajs spins a 1 ms timer per connection, ~24 ms/s of the
  // bench client's CPU each, charged to the system under test's per-order figures.
  const kafka = createKafka({ clientId: `bench-${label}`, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();

  const seen = new Map<string, Map<string, number>>(types.map((t) => [t, new Map()]));
  const arrivals = new Map<string, number[]>(types.map((t) => [t, []]));
  const consumer: Consumer = kafka.consumer({
    groupId: `bench-${label}-${Date.now().toString(36)}`,
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 30_000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let joined!: () => void;
  const joinedP = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const h = m.headers?.type;
        const type = Buffer.isBuffer(h) ? h.toString('utf8') : Array.isArray(h) ? String(h[0]) : h === undefined ? undefined : String(h);
        if (type === undefined) continue;
        const byId = seen.get(type);
        if (!byId || !m.key) continue;
        const id = m.key.toString('utf8');
        if (!byId.has(id)) {
          byId.set(id, now);
          arrivals.get(type)?.push(now);
        }
      }
    },
  });
  for (const p of ends) consumer.seek({ topic, partition: p.partition, offset: p.offset });
  await Promise.race([joinedP, new Promise((_, no) => setTimeout(() => no(new Error(`bench consumer on ${topic} did not join in 60 s`)), 60_000).unref())]);
  // Let the first fetches from the sought offsets go out before the load starts.
  await new Promise((w) => setTimeout(w, 1_000));
  return {
    seenAt: (type, orderId) => seen.get(type)?.get(orderId),
    count: (type) => seen.get(type)?.size ?? 0,
    times: (type) => arrivals.get(type) ?? [],
    async stop() {
      await consumer.disconnect().catch(() => undefined);
    },
  };
}
