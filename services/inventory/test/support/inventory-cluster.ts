import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, decodeEnvelope, EventPublisher } from '@flowline/messaging';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';

/**
 * N inventory processes (real main.ts) in one consumer group on one database, their own topics,
 * a publisher for commands and a collector of everything on inventory.events.v1 and inventory.stock.v1.
 */
export async function startInventoryCluster(label: string, instances: number, env: NodeJS.ProcessEnv = {}) {
  const db = await createTestDatabase(label);
  const prefix = testTopicPrefix();
  const group = `inventory-${label}-${uniqueSuffix()}`;
  const processes: ServiceProcess[] = [];
  const ulid = monotonicFactory();
  let kafka: Kafka | undefined;
  let publisher: EventPublisher | undefined;
  let collector: Consumer | undefined;
  const pool = new Pool({ connectionString: db.url, max: 3 });
  pool.on('error', () => undefined);
  const events: EventEnvelope<any>[] = [];

  async function close() {
    await collector?.disconnect().catch(() => undefined);
    await publisher?.disconnect().catch(() => undefined);
    await Promise.all(processes.map((p) => p.stop('SIGTERM').catch(() => undefined)));
    await pool.end().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }

  try {
    const common = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      INVENTORY_CONSUMER_GROUP: group,
      LOG_LEVEL: 'warn',
      ...env,
    };
    // The first one creates the schema and topics; the others join the group.
    processes.push(await startServiceProcess({ service: 'inventory', env: common }));
    processes.push(...(await Promise.all(Array.from({ length: instances - 1 }, () => startServiceProcess({ service: 'inventory', env: common })))));

    kafka = createKafka({ brokers: kafkaBrokers(), clientId: `test-${label}` });
    publisher = new EventPublisher({ kafka, topicPrefix: prefix });
    await publisher.connect();
    collector = kafka.consumer({ groupId: `collector-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    await collector.connect();
    await collector.subscribe({ topics: [`${prefix}${Topics.inventoryEvents}`, `${prefix}${Topics.inventoryStock}`], fromBeginning: true });
    await collector.run({ eachMessage: async ({ message }) => void events.push(decodeEnvelope(message.value)) });
  } catch (e) {
    await close();
    throw e;
  }

  const http = processes[0].httpUrl;

  return {
    db,
    pool,
    prefix,
    group,
    processes,
    http,
    kafka: kafka!,
    events,
    ulid,
    /** Builds a command envelope (what order-intake publishes). */
    envelope(type: string, data: Record<string, unknown>, eventId: string = ulid()): EventEnvelope {
      return {
        eventId,
        type,
        schemaVersion: 1,
        streamId: `order-${String(data.orderId)}`,
        streamPosition: 0,
        occurredAt: new Date().toISOString(),
        correlationId: String(data.orderId),
        causationId: null,
        data,
      };
    },
    async send(...envelopes: EventEnvelope[]) {
      await publisher!.publish(envelopes.map((e) => ({ topic: Topics.inventoryCommands, key: String((e.data as { orderId: string }).orderId), envelope: e })));
    },
    /** Events on inventory.events.v1 / inventory.stock.v1 of one type about one order or SKU. */
    of(type: string, about?: { orderId?: string; sku?: string }) {
      return events.filter(
        (e) => e.type === type && (!about?.orderId || e.data.orderId === about.orderId) && (!about?.sku || e.data.sku === about.sku),
      );
    },
    async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async waitForAsync(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async rest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${http}${path}`, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    close,
  };
}

export type InventoryCluster = Awaited<ReturnType<typeof startInventoryCluster>>;
