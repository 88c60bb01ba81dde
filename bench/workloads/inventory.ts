/**
 * Inventory workload: reservations/s for one hot SKU and for 10,000 SKUs.
 *
 * 1. Real path: ReserveStock commands published on inventory.commands.v1 -> TWO inventory
 *    processes (services/inventory/src/main.ts, one consumer group, one database) -> outcomes
 *    (StockReserved / StockShortage) read back from inventory.events.v1 after the relay. Rate =
 *    outcomes / (last outcome - first command sent); latency = command sent -> outcome received.
 * 2. Transaction path: the same StockUnitOfWork the consumer runs, called directly by two
 *    "instances" (own pools) with batches of 500, and unbatched (one command per transaction,
 *    16 at once: the plain row-lock design) as the baseline.
 * After each phase: no stock row has reserved > on_hand, and the ledger verify is clean.
 *
 * Run alone: `node -r @swc-node/register bench/workloads/inventory.ts [durationSec]`.
 */
import { Topics, type EventEnvelope } from '../../libs/contracts/src/index';
import { createKafka, decodeEnvelope, EventPublisher } from '../../libs/messaging/src/index';
import { startServiceProcess, type ServiceProcess } from '../../libs/platform/src/testing/service-process';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '../../libs/testing/src/infra';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { PostgresEventStore } from '../../libs/eventstore/src/index';
import type { InventoryCommand } from '../../services/inventory/src/application/inventory-commands';
import { StockUnitOfWork } from '../../services/inventory/src/application/stock-unit-of-work';
import { singleThenSplitByPriority } from '../../services/inventory/src/domain/policies/warehouse-allocation.policy';
import { PgInventoryStore } from '../../services/inventory/src/infra/pg-inventory-store';
import { type Figures, percentile, round } from '../lib/harness';

const ulid = monotonicFactory();
const MANY_SKUS = 10_000;
const AT = () => new Date().toISOString();

interface Db {
  url: string;
  pool: Pool;
  events: PostgresEventStore;
  store: PgInventoryStore;
  drop(): Promise<void>;
}

async function database(label: string): Promise<Db> {
  const db = await createTestDatabase(label);
  const pool = new Pool({ connectionString: db.url, max: 6 });
  pool.on('error', () => undefined);
  const events = await PostgresEventStore.create({ pool });
  const store = new PgInventoryStore(pool);
  await store.migrate();
  return {
    url: db.url,
    pool,
    events,
    store,
    async drop() {
      await events.close();
      await pool.end();
      await db.drop();
    },
  };
}

function unitOfWork(db: Db, poolSize: number): { uow: StockUnitOfWork; close(): Promise<void> } {
  const pool = new Pool({ connectionString: db.url, max: poolSize });
  pool.on('error', () => undefined);
  const store = new PgInventoryStore(pool);
  const uow = new StockUnitOfWork({
    store,
    events: db.events,
    strategy: singleThenSplitByPriority,
    warehouses: () => store.warehouses(),
    newId: () => ulid(),
  });
  return { uow, close: () => pool.end() };
}

/** SKU rows and opening stock, through the unit of work's receipt path in batches of 1,000. */
async function seed(db: Db, skus: string[], quantity: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO inventory.sku (sku, name, channel_rules) SELECT s, s, '[{"channel":"tmall"},{"channel":"jd","sharePercent":50}]'::jsonb FROM unnest($1::text[]) AS s`,
    [skus],
  );
  const { uow, close } = unitOfWork(db, 2);
  try {
    for (let i = 0; i < skus.length; i += 1000) {
      await uow.execute(
        skus.slice(i, i + 1000).map((sku) => ({ type: 'ReceiveStock' as const, meta: { commandId: ulid(), correlationId: 'seed', at: AT() }, sku, warehouseId: 'WH-SH', quantity })),
      );
    }
  } finally {
    await close();
  }
}

/** No oversell anywhere and reserved = sum of open lines for every ledger. */
async function check(db: Db): Promise<{ oversold: number; drifting: number }> {
  const r = await db.pool.query(
    `SELECT count(*) FILTER (WHERE s.reserved > s.on_hand OR s.on_hand < 0)::int AS oversold,
            count(*) FILTER (WHERE s.reserved <> COALESCE(l.q, 0))::int AS drifting
       FROM inventory.stock s
       LEFT JOIN (SELECT sku, warehouse_id, sum(quantity) AS q FROM inventory.reservation_line GROUP BY 1, 2) l USING (sku, warehouse_id)`,
  );
  return r.rows[0];
}

function reserveCommand(sku: string, i: number, batchTag: string): InventoryCommand {
  const orderId = `${batchTag}-${i}`;
  return {
    type: 'ReserveStock',
    meta: {
      commandId: `${orderId}-cmd`,
      correlationId: orderId,
      at: AT(),
      dedupe: { kind: 'inbox', group: 'bench', eventId: `${orderId}-cmd`, eventType: 'ReserveStock', topic: 'inventory.commands.v1', partition: 0, offset: String(i) },
    },
    orderId,
    reservationId: `r-${orderId}`,
    channel: 'tmall',
    lines: [{ lineId: '1', sku, quantity: 1 }],
  };
}

/** Transaction path: `instances` units of work, each with `concurrency` batches of `batch` in flight. */
async function transactionPath(db: Db, pickSku: (i: number) => string, seconds: number, instances: number, concurrency: number, batch: number) {
  const units = Array.from({ length: instances }, () => unitOfWork(db, concurrency + 1));
  const tag = `tx${uniqueSuffix()}`;
  let next = 0;
  let reserved = 0;
  const batchMs: number[] = [];
  const started = Date.now();
  const deadline = started + seconds * 1000;
  try {
    await Promise.all(
      units.flatMap((u) =>
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < deadline) {
            const commands = Array.from({ length: batch }, () => {
              const i = next++;
              return reserveCommand(pickSku(i), i, tag);
            });
            const t = performance.now();
            const results = await u.uow.execute(commands);
            batchMs.push(performance.now() - t);
            reserved += results.filter((r) => r.status === 'applied' && r.outcome.kind === 'reservation' && r.outcome.result.kind === 'reserved').length;
          }
        }),
      ),
    );
  } finally {
    await Promise.all(units.map((u) => u.close()));
  }
  const sec = (Date.now() - started) / 1000;
  return { perSec: Math.round(next / sec), reserved, decided: next, batchP50: round(percentile(batchMs, 50)), batchP99: round(percentile(batchMs, 99)) };
}

/** Real path: commands on Kafka -> two inventory processes -> outcomes on Kafka. */
async function kafkaPath(db: Db, pickSku: (i: number) => string, seconds: number, log: (m: string) => void) {
  const prefix = testTopicPrefix();
  const group = `inventory-bench-${uniqueSuffix()}`;
  const env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    INVENTORY_CONSUMER_GROUP: group,
    INVENTORY_EXPIRY_SWEEP_MS: '0',
    LOG_LEVEL: 'warn',
  };
  const processes: ServiceProcess[] = [];
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'bench-inventory' });
  const publisher = new EventPublisher({ kafka, topicPrefix: prefix, maxBatchSize: 1000 });
  const collector = kafka.consumer({ groupId: `bench-collector-${uniqueSuffix()}`, maxWaitTimeInMs: 50, maxBytes: 20 * 1024 * 1024 });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let outcomes = 0;
  let reservedCount = 0;
  let lastOutcomeAt = 0;
  try {
    processes.push(await startServiceProcess({ service: 'inventory', env }));
    processes.push(await startServiceProcess({ service: 'inventory', env }));
    await publisher.connect();
    await collector.connect();
    await collector.subscribe({ topics: [`${prefix}${Topics.inventoryEvents}`], fromBeginning: true });
    await collector.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          const e = decodeEnvelope(m.value) as EventEnvelope<{ orderId?: string }>;
          if (e.type !== 'StockReserved' && e.type !== 'StockShortage') continue;
          const t = sentAt.get(e.data.orderId ?? '');
          if (t === undefined) continue;
          sentAt.delete(e.data.orderId!);
          latencies.push(now - t);
          outcomes++;
          if (e.type === 'StockReserved') reservedCount++;
          lastOutcomeAt = now;
        }
      },
    });
    // Both processes in the group before the clock starts.
    const admin = kafka.admin();
    await admin.connect();
    for (let i = 0; i < 300; i++) {
      const g = (await admin.describeGroups([group])).groups[0];
      if (g.state === 'Stable' && g.members.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await admin.disconnect();

    const tag = `k${uniqueSuffix()}`;
    let sent = 0;
    const started = Date.now();
    // Progress every 2 s: sent, applied by the consumers (inbox rows), outcomes back from the relay.
    const progress = setInterval(() => {
      db.pool
        .query(`SELECT count(*)::int AS n FROM messaging_inbox`)
        .then((r) => log(`  t+${Math.round((Date.now() - started) / 1000)}s sent ${sent}, applied ${r.rows[0].n}, outcomes ${outcomes}`))
        .catch(() => undefined);
    }, 2000);
    const deadline = started + seconds * 1000;
    // Two producers keep the topic ahead of the consumers; a cap on the backlog (8,000) keeps latency meaningful.
    await Promise.all(
      [0, 1].map(async () => {
        while (Date.now() < deadline) {
          if (sent - outcomes > 8_000) {
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          const envelopes = Array.from({ length: 500 }, () => {
            const i = sent++;
            const orderId = `${tag}-${i}`;
            const envelope: EventEnvelope = {
              eventId: ulid(),
              type: 'ReserveStock',
              schemaVersion: 1,
              streamId: `order-${orderId}`,
              streamPosition: 0,
              occurredAt: AT(),
              correlationId: orderId,
              causationId: null,
              data: { orderId, channel: 'tmall', lines: [{ lineId: '1', sku: pickSku(i), quantity: 1 }] },
            };
            return { topic: Topics.inventoryCommands, key: orderId, envelope };
          });
          const now = Date.now();
          for (const e of envelopes) sentAt.set(e.key, now);
          await publisher.publish(envelopes);
        }
      }),
    );
    const drainDeadline = Date.now() + 120_000;
    while (outcomes < sent && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 50));
    clearInterval(progress);
    const sec = (lastOutcomeAt - started) / 1000;
    log(`kafka path: ${sent} commands sent, ${outcomes} outcomes in ${round(sec)} s`);
    return {
      perSec: Math.round(outcomes / sec),
      sent,
      outcomes,
      reserved: reservedCount,
      latencyP50: percentile(latencies, 50),
      latencyP99: percentile(latencies, 99),
    };
  } finally {
    await collector.disconnect().catch(() => undefined);
    await publisher.disconnect().catch(() => undefined);
    await Promise.all(processes.map((p) => p.stop('SIGTERM').catch(() => undefined)));
  }
}

export async function run(opts: { durationSec: number; only?: 'hot' | 'many' }): Promise<Figures> {
  const log = (m: string) => console.log(`  [inventory] ${m}`);
  const phase = Math.max(4, Math.round(opts.durationSec / 3));
  const figures: Figures = {
    path: 'Kafka -> 2 inventory processes -> relay -> Kafka; tx.* = unit of work called directly',
  };
  const manySkus = Array.from({ length: MANY_SKUS }, (_, i) => `SKU-B-${String(i).padStart(5, '0')}`);
  const pickMany = (i: number) => manySkus[(i * 7919) % MANY_SKUS];

  // Kafka path, one hot SKU.
  let db = await database('bench_inv_hot');
  if (opts.only !== 'many') try {
    await seed(db, ['SKU-HOT'], 10_000_000);
    const hot = await kafkaPath(db, () => 'SKU-HOT', phase, log);
    const c = await check(db);
    Object.assign(figures, {
      'hotSku.reservationsPerSec': hot.perSec,
      'hotSku.latencyP50Ms': hot.latencyP50,
      'hotSku.latencyP99Ms': hot.latencyP99,
      'hotSku.reserved': hot.reserved,
      'hotSku.oversoldLedgers': c.oversold,
      'hotSku.driftingLedgers': c.drifting,
    });
    log(`hot SKU via Kafka: ${hot.perSec}/s, p50 ${hot.latencyP50} ms, p99 ${hot.latencyP99} ms`);

    // Transaction path on the same database: batched vs one reservation per transaction.
    const tx = await transactionPath(db, () => 'SKU-HOT', Math.max(3, Math.round(phase / 2)), 2, 1, 500);
    const rowLock = await transactionPath(db, () => 'SKU-HOT', Math.max(3, Math.round(phase / 2)), 2, 8, 1);
    const c2 = await check(db);
    Object.assign(figures, {
      'hotSku.tx.batched.reservationsPerSec': tx.perSec,
      'hotSku.tx.batched.batchP50Ms': tx.batchP50,
      'hotSku.tx.unbatched.reservationsPerSec': rowLock.perSec,
      'baseline.hotSku.tx.batched.reservationsPerSec': rowLock.perSec,
      'ratio.hotSku.tx.batched.reservationsPerSec': round(tx.perSec / Math.max(1, rowLock.perSec), 2),
      'hotSku.tx.oversoldLedgers': c2.oversold,
    });
    log(`hot SKU transaction path: batched ${tx.perSec}/s (batch p50 ${tx.batchP50} ms), one per transaction ${rowLock.perSec}/s`);
  } finally {
    await db.drop();
  }

  // 10,000 SKUs.
  db = await database('bench_inv_many');
  if (opts.only !== 'hot') try {
    await seed(db, manySkus, 1000);
    const many = await kafkaPath(db, pickMany, phase, log);
    const tx = await transactionPath(db, pickMany, Math.max(3, Math.round(phase / 2)), 2, 1, 500);
    const c = await check(db);
    Object.assign(figures, {
      'skus10k.reservationsPerSec': many.perSec,
      'skus10k.latencyP50Ms': many.latencyP50,
      'skus10k.latencyP99Ms': many.latencyP99,
      'skus10k.tx.batched.reservationsPerSec': tx.perSec,
      'skus10k.oversoldLedgers': c.oversold,
      'skus10k.driftingLedgers': c.drifting,
    });
    log(`10,000 SKUs via Kafka: ${many.perSec}/s; transaction path ${tx.perSec}/s`);
  } finally {
    await db.drop();
  }
  return figures;
}

if (require.main === module) {
  const durationSec = Number(process.argv[2] ?? process.env.BENCH_DURATION_SEC ?? 20);
  const only = process.env.BENCH_INVENTORY_ONLY as 'hot' | 'many' | undefined;
  run({ durationSec, ...(only ? { only } : {}) })
    .then((f) => {
      console.log(JSON.stringify(f, null, 2));
      process.exit(0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
