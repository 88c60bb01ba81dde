import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { MIGRATIONS_TABLE } from '@flowline/platform';
import { anOrderSubmission, grandTotalOf, lines } from '@flowline/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedRuleSet } from '../src/application/rule-set.source';
import { ShortageRetryJob } from '../src/application/shortage-retry.job';
import { isExisting } from '../src/domain/order.state';
import { parseRuleSet } from '../src/domain/rules/rule-set.parser';
import { migrateOrderIntake } from '../src/infra/order-intake-schema';
import { InventoryStockHttpClient } from '../src/infra/inventory-stock.http-client';
import { pgOrderFixture } from './support/pg-order-fixture';

// Orders waiting for stock (缺货) in order-intake's read table (migration v2 `short_skus`) against
// the real PostgreSQL event store: the projection writes the column in the order's commit, the
// v2 backfill derives the same from the streams, and the retry job resolves what the stock covers.

const rules = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../rules/default.rules.yaml'), 'utf8')));
const T0 = Date.parse('2026-12-01T08:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();
describe('orders waiting for stock (real PostgreSQL)', () => {
  const fx = pgOrderFixture('order_intake_shortage_retry', rules);
  let seq = 0;
  const ids: Record<string, string> = {};
  const run = (orderId: string, type: Parameters<typeof fx.run>[1], data: object, now: number) => fx.run(orderId, type, data, at(now));

  /** Placed and paid at `t`; with `missing`, refused by inventory (RecordStockShortage flags STOCK_SHORTAGE in the same commit). */
  async function order(name: string, specs: Parameters<typeof lines>, t: number, missing?: { sku: string; requested: number; available: number }[]): Promise<string> {
    seq += 1;
    const orderId = `01KSHORT${String(seq).padStart(18, '0')}`;
    const submission = anOrderSubmission({ channelOrderId: `TB-SHORT-${orderId}`, placedAt: at(t), lines: lines(...specs) });
    await fx.places.execute({ type: 'PlaceOrder', data: { orderId, order: submission }, metadata: { commandId: `place-${orderId}`, correlationId: orderId, causationId: null, now: at(t) } });
    await run(orderId, 'ConfirmPayment', { amount: grandTotalOf(submission), currency: 'CNY' }, t + 1_000);
    if (missing) await run(orderId, 'RecordStockShortage', { missing }, t + 2_000);
    ids[name] = orderId;
    return orderId;
  }

  const shortSkus = async () =>
    Object.fromEntries((await fx.pool.query<{ order_id: string; short_skus: string[] | null }>('SELECT order_id, short_skus FROM order_summaries ORDER BY order_id')).rows.map((r) => [r.order_id, r.short_skus]));

  beforeAll(async () => {
    await order('vase2', [{ sku: 'VASE', quantity: 2 }], T0, [{ sku: 'VASE', requested: 2, available: 0 }]);
    await order('vase3', [{ sku: 'VASE', quantity: 3 }], T0 + 60_000, [{ sku: 'VASE', requested: 3, available: 1 }]);
    await order('mixed', [{ sku: 'CUP', quantity: 1 }, { sku: 'VASE', quantity: 1 }], T0 + 120_000, [{ sku: 'CUP', requested: 1, available: 0 }, { sku: 'VASE', requested: 1, available: 0 }]);
    const held = await order('held', [{ sku: 'VASE', quantity: 1 }], T0 + 180_000, [{ sku: 'VASE', requested: 1, available: 0 }]);
    await run(held, 'PlaceHold', { reason: '地址待确认' }, T0 + 200_000);
    const resolved = await order('resolved', [{ sku: 'VASE', quantity: 1 }], T0 + 240_000, [{ sku: 'VASE', requested: 1, available: 0 }]);
    await run(resolved, 'ResolveException', { reason: '已补货' }, T0 + 250_000);
    const other = await order('other', [{ sku: 'VASE', quantity: 1 }], T0 + 300_000);
    await run(other, 'FlagException', { code: 'ADDRESS_CHECK', reason: '地址不全' }, T0 + 301_000);
    await run(other, 'RecordStockShortage', { missing: [{ sku: 'VASE', requested: 1, available: 0 }] }, T0 + 302_000);
    await order('asked', [{ sku: 'VASE', quantity: 1 }], T0 + 360_000); // paid, inventory not answered yet
    const refund = await order('refund', [{ sku: 'VASE', quantity: 1 }], T0 + 420_000, [{ sku: 'VASE', requested: 1, available: 0 }]);
    const { state } = await fx.store.load(refund);
    if (!isExisting(state)) throw new Error('not placed');
    await run(refund, 'RequestRefund', { amount: state.order.totals.grandTotal, reason: '不想等了' }, T0 + 430_000);
  });

  it('the read table lists each waiting order with the SKUs it was short of, first placed first, in the commit that made it wait, and clears it when it stops waiting', async () => {
    expect(await shortSkus()).toEqual({
      [ids.vase2!]: ['VASE'],
      [ids.vase3!]: ['VASE'],
      [ids.mixed!]: ['CUP', 'VASE'],
      [ids.held!]: null,
      [ids.resolved!]: null,
      [ids.other!]: null,
      [ids.asked!]: null,
      [ids.refund!]: null,
    });
    const page1 = await fx.store.waitingForStock({ limit: 2 });
    const page2 = await fx.store.waitingForStock({ limit: 2, after: { placedAt: page1[1]!.placedAt, orderId: page1[1]!.orderId } });
    expect([...page1, ...page2].map((r) => r.orderId)).toEqual([ids.vase2, ids.vase3, ids.mixed]);
    expect((await fx.store.waitingForStock({ sku: 'CUP', limit: 10 })).map((r) => r.orderId)).toEqual([ids.mixed]);
  });

  it('a listed row is cleared only at the revision it was read at', async () => {
    const [row] = await fx.store.waitingForStock({ sku: 'CUP', limit: 1 });
    await fx.store.clearShortSkus(row!.orderId, row!.revision - 1);
    expect((await shortSkus())[row!.orderId]).toEqual(['CUP', 'VASE']);
    await fx.store.clearShortSkus(row!.orderId, row!.revision);
    expect((await shortSkus())[row!.orderId]).toBeNull();
    await fx.store.relistWaiting();
    expect((await shortSkus())[row!.orderId]).toEqual(['CUP', 'VASE']);
  });

  it('migration v2 backfills the same SKUs from the order streams', async () => {
    const projected = await shortSkus();
    await fx.pool.query('UPDATE order_summaries SET short_skus = NULL');
    await fx.pool.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE scope = 'order-intake' AND version = 2`);
    await migrateOrderIntake(fx.pool);
    // The one difference the backfill allows: an order with a refund requested is listed (the
    // streams' exception events do not say it); the retry clears it on its first look.
    expect(await shortSkus()).toEqual({ ...projected, [ids.refund!]: ['VASE'] });
  });

  it('the retry resolves, first placed first, the orders what inventory has now covers (its stock read through the HTTP adapter from a stand-in)', async () => {
    const changedAt = at(T0 + 3_600_000);
    const figures: Record<string, number> = { VASE: 3, CUP: 5 };
    const server = createServer((req, res) => {
      const sku = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      if (figures[sku] === undefined) return void res.writeHead(404).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sku, total: { available: figures[sku] }, warehouses: [{ warehouseId: 'WH-HZ-01', available: figures[sku], updatedAt: changedAt }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // A waiting order a replica of an earlier release left unlisted: the timer's first run lists it again.
      await fx.pool.query('UPDATE order_summaries SET short_skus = NULL WHERE order_id = $1', [ids.mixed]);
      const job = new ShortageRetryJob(fx.store, fx.changes, new InventoryStockHttpClient(url, {}));
      // 3 vases: the 2 of the oldest order, then not the 3 of the next, then the mixed order's 1.
      const outcome = await job.runOnce(at(T0 + 7_200_000));
      expect(outcome).toEqual({ retried: [ids.vase2, ids.mixed], waiting: [{ orderId: ids.vase3, reason: 'not_enough_stock' }], skipped: [], candidates: 3 });
      for (const id of [ids.vase2!, ids.mixed!]) {
        expect((await fx.store.load(id)).state).toMatchObject({ status: 'paid', exception: null });
        expect((await fx.eventStore.readStream(`process-${id}`)).at(-1)).toMatchObject({ type: 'ReserveStock' });
      }
      expect((await fx.store.waitingForStock({ limit: 10 })).map((r) => r.orderId)).toEqual([ids.vase3]);
      // The backfilled refund-requested order was looked at, found not waiting and cleared.
      expect((await shortSkus())[ids.refund!]).toBeNull();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
