import type { EventEnvelope } from '@flowline/contracts';
import { pgTransactions, queryPrepared, type SqlQueryable } from '@flowline/messaging';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAnalyticsSchema } from '../src/infra/analytics-schema';
import { analyticsChecksum } from '../src/infra/checksum';
import { FactStore, type PositionedEnvelope } from '../src/infra/fact-store';
import { envelope, orderEvents, shipmentPacked, stockLevel } from './fixtures/events';

/*
 * What applying a placed-and-paid order costs analytics in database round trips and commits
 * (issue #10), counted on the transaction (every tx.query / prepared statement, plus BEGIN and
 * COMMIT) against the real PostgreSQL; and that a batch applied in one transaction gives the same
 * facts (checksum) as the same events applied one per transaction.
 */

const ORDERS = 20;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

/** Per order: OrderPlaced (2 lines), OrderPaid, OrderStockReserved, 2 StockLevelChanged, ShipmentPacked, an OrderChanged on every 4th, a refund on every 5th. */
function events(): PositionedEnvelope[] {
  const out: PositionedEnvelope[] = [];
  let offset = 0;
  for (let i = 0; i < ORDERS; i++) {
    const orderId = `o${i}`;
    const msgs = orderEvents({
      orderId,
      channel: 'taobao',
      shopId: 'tb-1',
      customerId: `c${i % 7}`,
      province: '浙江省',
      placedAt: '2026-06-01T01:55:00.000Z',
      paidAt: '2026-06-01T02:00:00.000Z',
      warehouseId: 'WH-HZ',
      lines: [
        { sku: 'SKU-A', quantity: 2, unitPrice: 1000 },
        { sku: `SKU-${i % 3}`, quantity: 1, unitPrice: 3000 },
      ],
      ...(i % 5 === 0 ? { refund: { amount: 500, at: '2026-06-02T00:00:00.000Z' } } : {}),
    });
    msgs.push(stockLevel('SKU-A', 'WH-HZ', 1000, 2 * (i + 1), '2026-06-01T02:00:01.000Z', 2 * i));
    msgs.push(stockLevel(`SKU-${i % 3}`, 'WH-HZ', 500, i + 1, '2026-06-01T02:00:01.000Z', 2 * i + 1));
    if (i % 4 === 0) {
      msgs.push({
        topic: 'orders.events.v1',
        key: orderId,
        envelope: envelope(
          'OrderChanged',
          {
            orderId,
            totals: { itemsTotal: 2000, shippingFee: 0, orderDiscount: 0, grandTotal: 2000, currency: 'CNY' },
            lines: [{ lineId: '1', sku: 'SKU-A', title: 'A', quantity: 2, unitPrice: 1000, lineDiscount: 0 }],
            allocations: [
              { lineId: '1', sku: 'SKU-A', warehouseId: 'WH-HZ', quantity: 1 },
              { lineId: '1', sku: 'SKU-A', warehouseId: 'WH-HZ', quantity: 1 },
            ],
          },
          '2026-06-01T03:00:00.000Z',
          `order-${orderId}`,
          4,
        ),
      });
    }
    msgs.push(shipmentPacked(orderId, 'WH-HZ', '2026-06-01T04:00:00.000Z'));
    for (const m of msgs) out.push({ envelope: m.envelope as EventEnvelope, topic: m.topic, partition: i % 3, offset: String(offset++) });
  }
  return out;
}

/** pgTransactions whose transactions count every statement sent (BEGIN and COMMIT included). */
function counting(p: Pool) {
  const inner = pgTransactions(p);
  const counter = { statements: 0, commits: 0 };
  return {
    counter,
    run<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      return inner.run(async (tx) => {
        counter.statements += 2; // BEGIN, COMMIT
        counter.commits++;
        const wrapped: SqlQueryable = {
          query: (sql, params) => {
            counter.statements++;
            return tx.query(sql, params);
          },
          queryPrepared: (sql, params) => {
            counter.statements++;
            return queryPrepared(tx, sql, params);
          },
        };
        return fn(wrapped);
      });
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase('analytics_fact_batch');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await ensureAnalyticsSchema(pool, 'single_apply');
  await ensureAnalyticsSchema(pool, 'batch_apply');
  await ensureAnalyticsSchema(pool, 'locked_apply');
  await ensureAnalyticsSchema(pool, 'level_apply');
  await ensureAnalyticsSchema(pool, 'level_order');
});

afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await db?.drop();
});

describe('FactStore.applyBatch (real PostgreSQL)', () => {
  it('applies a batch of orders in one transaction with the same facts as one event per transaction, and counts its round trips', async () => {
    const all = events();
    const single = counting(pool);
    const singleStore = new FactStore('single_apply', { swapLock: false });
    for (const e of all) await single.run((tx) => singleStore.applyBatch(tx, [e]));

    const batch = counting(pool);
    const batchStore = new FactStore('batch_apply', { swapLock: false });
    const results = await batch.run((tx) => batchStore.applyBatch(tx, all));
    expect(results.every((r) => r.kind === 'done')).toBe(true);
    const batchStatements = batch.counter.statements;
    // BEGIN; claim (checkpoints moved, event ids claimed, one statement); one write statement per
    // level (o0 has 6 fact changes: placed, paid, reserved, changed, packed, refunded; stock levels
    // ride with level 0); COMMIT.
    expect(batchStatements).toBe(2 + 1 + 6);
    // Redelivered: every event a duplicate, nothing changes: BEGIN, claim, COMMIT.
    const before = batch.counter.statements;
    const again = await batch.run((tx) => batchStore.applyBatch(tx, all.slice(0, 10)));
    expect(again.every((r) => r.kind === 'duplicate')).toBe(true);
    expect(batch.counter.statements - before).toBe(3);
    // The live projector's store takes the swap lock within the claim statement: same count, same facts.
    const locked = counting(pool);
    const lockedStore = new FactStore('locked_apply', { swapLock: true });
    await locked.run((tx) => lockedStore.applyBatch(tx, all));
    expect(locked.counter.statements).toBe(batchStatements);
    // A chunk that changes only stock levels: one write statement.
    const stockOnly = counting(pool);
    await stockOnly.run((tx) => lockedStore.applyBatch(tx, [{ envelope: stockLevel('SKU-Z', 'WH-HZ', 9, 0, '2026-06-05T00:00:00.000Z', 0).envelope as EventEnvelope, topic: 'inventory.events.v1', partition: 0, offset: '9999' }]));
    expect(stockOnly.counter.statements).toBe(4);

    const tx = pgTransactions(pool);
    const a = await analyticsChecksum(tx, 'single_apply');
    const b = await analyticsChecksum(tx, 'batch_apply');
    expect(b.tables).toEqual(a.tables);
    expect(b.checksum).toBe(a.checksum);
    await pool.query(`DELETE FROM "locked_apply"."stock_level" WHERE "sku" = 'SKU-Z'`);
    const c = await analyticsChecksum(tx, 'locked_apply');
    expect(c.tables).toEqual(a.tables);
    expect(c.checksum).toBe(a.checksum);
    const [z] = (await pool.query(`SELECT count(*)::int AS n FROM "locked_apply"."applied_event"`)).rows;
    expect(z.n).toBe(all.length + 1);
    expect(a.tables.order_fact.rows).toBe(ORDERS);
    const [paid] = (await pool.query(`SELECT sum("paid_amount")::int AS p, sum("refunded_amount")::int AS r FROM "batch_apply"."order_fact"`)).rows;
    expect(paid.p).toBeGreaterThan(0);
    expect(paid.r).toBe(500 * 4);

    const perOrderSingle = single.counter.statements / ORDERS;
    const perOrderBatch = batchStatements / ORDERS;
    // The figures go into services/analytics/README.md (Performance).
    console.log(`analytics round trips per order: one event per transaction ${perOrderSingle.toFixed(2)} (${single.counter.commits / ORDERS} commits), batch of ${all.length} events ${perOrderBatch.toFixed(2)} (1 commit)`);
    // One event per transaction: BEGIN, claim, one write statement (none for an event that changes no fact), COMMIT.
    expect(single.counter.statements).toBe(516);
  }, 120_000);

  it('writes a chunk holding one change per order (the live flow: placed, then paid, then reserved with stock levels) in 4 statements', async () => {
    const all = events().filter((e) => e.envelope.type !== 'OrderChanged' && e.envelope.type !== 'ShipmentPacked' && e.envelope.type !== 'OrderRefunded');
    const store = new FactStore('level_apply', { swapLock: true });
    const kinds = [['OrderPlaced'], ['OrderPaid'], ['OrderStockReserved', 'StockLevelChanged']];
    for (const types of kinds) {
      const chunk = all.filter((e) => types.includes(e.envelope.type));
      expect(chunk.length).toBeGreaterThanOrEqual(ORDERS);
      const c = counting(pool);
      const results = await c.run((tx) => store.applyBatch(tx, chunk));
      expect(results.every((r) => r.kind === 'done')).toBe(true);
      expect(c.counter.statements).toBe(4); // BEGIN, claim, write, COMMIT
    }
    const [f] = (await pool.query(`SELECT count(*)::int AS n, count("paid_at")::int AS paid FROM "level_apply"."order_fact"`)).rows;
    expect(f).toEqual({ n: ORDERS, paid: ORDERS });
    const [a] = (await pool.query(`SELECT count(DISTINCT "order_id")::int AS n FROM "level_apply"."allocation"`)).rows;
    expect(a.n).toBe(ORDERS);
    const [l] = (await pool.query(`SELECT count(*)::int AS n FROM "level_apply"."order_line"`)).rows;
    expect(l.n).toBe(2 * ORDERS);
  }, 60_000);

  it('keeps a stock level by its ledger revision, not by arrival: levels from inventory.events.v1 (before ADR 0023) replayed after newer ones from inventory.stock.v1 change nothing', async () => {
    const store = new FactStore('level_order', { swapLock: true });
    const tx = pgTransactions(pool);
    let offset = 0;
    const at = (sku: string, onHand: number, revision: number, topic: string): PositionedEnvelope => ({
      envelope: stockLevel(sku, 'WH-HZ', onHand, 0, '2026-06-05T00:00:00.000Z', revision).envelope as EventEnvelope,
      topic,
      partition: 0,
      offset: String(offset++),
    });
    const level = async (sku: string) => (await pool.query(`SELECT "on_hand", "version"::int AS "version" FROM "level_order"."stock_level" WHERE "sku" = $1`, [sku])).rows[0];
    // Chunk by chunk: the newer level first (the new topic's partition ran ahead), then an older one.
    await tx.run((t) => store.applyBatch(t, [at('SKU-N', 7, 12, 'inventory.stock.v1')]));
    await tx.run((t) => store.applyBatch(t, [at('SKU-N', 3, 4, 'inventory.events.v1')]));
    expect(await level('SKU-N')).toEqual({ on_hand: 7, version: 12 });
    // In one chunk, in either order.
    await tx.run((t) => store.applyBatch(t, [at('SKU-M', 9, 20, 'inventory.stock.v1'), at('SKU-M', 2, 5, 'inventory.events.v1')]));
    expect(await level('SKU-M')).toEqual({ on_hand: 9, version: 20 });
    // A newer revision still replaces, and an equal one too (a redelivery carries the same figures).
    await tx.run((t) => store.applyBatch(t, [at('SKU-N', 8, 13, 'inventory.stock.v1')]));
    expect(await level('SKU-N')).toEqual({ on_hand: 8, version: 13 });
  }, 60_000);
});
