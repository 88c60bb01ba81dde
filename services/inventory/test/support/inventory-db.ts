import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { createTestDatabase } from '@flowline/testing';
import { PostgresEventStore } from '@flowline/eventstore';
import { StockUnitOfWork } from '../../src/application/stock-unit-of-work';
import type { CommandMeta } from '../../src/application/inventory-commands';
import { singleThenSplitByPriority } from '../../src/domain/policies/warehouse-allocation.policy';
import { PgInventoryStore } from '../../src/infra/pg-inventory-store';

/** A private inventory database (tables + event store) for one test file. */
export async function inventoryTestDatabase(label: string) {
  const db = await createTestDatabase(label);
  const pools: Pool[] = [];
  const stores: PostgresEventStore[] = [];
  const newPool = (max = 5) => {
    const p = new Pool({ connectionString: db.url, max });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const adminPool = newPool(4);
  const events = await PostgresEventStore.create({ pool: adminPool });
  stores.push(events);
  const store = new PgInventoryStore(adminPool);
  await store.migrate();
  const ulid = monotonicFactory();

  /** One "instance": its own pool and unit of work over the same database. */
  function instance(max = 4) {
    const pool = newPool(max);
    const s = new PgInventoryStore(pool);
    return new StockUnitOfWork({
      store: s,
      events,
      strategy: singleThenSplitByPriority,
      warehouses: () => s.warehouses(),
      newId: () => ulid(),
    });
  }

  let n = 0;
  const meta = (over: Partial<CommandMeta> = {}): CommandMeta => ({
    commandId: `cmd-${++n}-${ulid()}`,
    correlationId: 'corr',
    at: '2026-05-01T10:00:00.000Z',
    ...over,
  });

  return {
    url: db.url,
    pool: adminPool,
    store,
    events,
    instance,
    meta,
    ulid,
    async close() {
      for (const s of stores) await s.close();
      for (const p of pools) await p.end().catch(() => undefined);
      await db.drop();
    },
  };
}
