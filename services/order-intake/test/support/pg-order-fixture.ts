import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { ChangeOrderHandler, type ChangeResult } from '../../src/application/change-order.handler';
import { PlaceOrderHandler } from '../../src/application/place-order.handler';
import type { RuleSetSource } from '../../src/application/rule-set.source';
import type { OrderCommand } from '../../src/domain/order.commands';
import { migrateOrderIntake } from '../../src/infra/order-intake-schema';
import { PgOrderStore } from '../../src/infra/pg-order-store';

type Change = Exclude<OrderCommand, { type: 'PlaceOrder' }>;

export interface PgOrderFixture {
  pool: Pool;
  eventStore: PostgresEventStore;
  store: PgOrderStore;
  changes: ChangeOrderHandler;
  places: PlaceOrderHandler;
  /** Runs a command on an order at `now` (ISO) with a command id of its own. */
  run(orderId: string, type: Change['type'], data: object, now: string): Promise<ChangeResult>;
}

/**
 * order-intake's PostgreSQL store and its command handlers on a fresh test database, made before
 * the describe block's tests and dropped after them (call it inside `describe`).
 */
export function pgOrderFixture(database: string, rules: RuleSetSource, poolMax = 4): PgOrderFixture {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let seq = 0;
  const f = {
    run: (orderId: string, type: Change['type'], data: object, now: string) => {
      seq += 1;
      return f.changes.execute({ type, data: { orderId, ...data }, metadata: { commandId: `t-${orderId}-${seq}`, correlationId: orderId, causationId: null, now } } as unknown as Change);
    },
  } as PgOrderFixture;
  beforeAll(async () => {
    db = await createTestDatabase(database);
    f.pool = new Pool({ connectionString: db.url, max: poolMax });
    await migrateOrderIntake(f.pool);
    f.eventStore = await PostgresEventStore.create({ pool: f.pool, schema: 'eventstore' });
    f.store = new PgOrderStore(f.pool, f.eventStore);
    f.changes = new ChangeOrderHandler(f.store, rules);
    f.places = new PlaceOrderHandler(f.store, rules);
  });
  afterAll(async () => {
    await f.eventStore?.close().catch(() => undefined);
    await f.pool?.end().catch(() => undefined);
    await db?.drop();
  });
  return f;
}
