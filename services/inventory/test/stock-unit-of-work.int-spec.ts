import { FORCE_GENERIC_PLANS_SQL, WrongExpectedVersion } from '@flowline/eventstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryTestDatabase } from './support/inventory-db';
import type { InventoryCommand } from '../src/application/inventory-commands';

/** FORCE_GENERIC_PLANS_SQL as a regular expression source. */
const GENERIC = FORCE_GENERIC_PLANS_SQL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('stock unit of work (real PostgreSQL, two instances)', () => {
  let t: Awaited<ReturnType<typeof inventoryTestDatabase>>;

  beforeAll(async () => {
    t = await inventoryTestDatabase('inv_uow');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function sku(sku: string, extra: Partial<{ allowBackorder: boolean; safetyStock: number; lowStockThreshold: number }> = {}) {
    await t.store.upsertSku({ sku, name: sku, allowBackorder: false, safetyStock: 0, lowStockThreshold: 0, channelRules: [{ channel: 'tmall' }], ...extra });
  }

  it('200 concurrent one-unit orders against 50 units, two instances: exactly 50 reserved, 150 shortages', async () => {
    await sku('HOT-1');
    const a = t.instance();
    const b = t.instance();
    await a.execute([{ type: 'ReceiveStock', meta: t.meta(), sku: 'HOT-1', warehouseId: 'WH-SH', quantity: 50 }]);
    const commands: InventoryCommand[] = Array.from({ length: 200 }, (_, i) => ({
      type: 'ReserveStock',
      meta: t.meta(),
      orderId: `hot-o${i}`,
      reservationId: `r-${i}`,
      channel: 'tmall',
      lines: [{ lineId: '1', sku: 'HOT-1', quantity: 1 }],
    }));
    // Batches of uneven size, each instance running up to 3 batches at once.
    const batches: InventoryCommand[][] = [];
    for (let i = 0, size = 7; i < commands.length; i += size, size = (size * 3) % 17 + 3) batches.push(commands.slice(i, i + size));
    const results = (await Promise.all(batches.map((batch, i) => (i % 2 ? a : b).execute(batch)))).flat();
    const kinds = results.map((r) => (r.status === 'applied' && r.outcome.kind === 'reservation' ? r.outcome.result.kind : r.status));
    expect(kinds.filter((k) => k === 'reserved')).toHaveLength(50);
    expect(kinds.filter((k) => k === 'shortage')).toHaveLength(150);
    const row = (await t.pool.query(`SELECT on_hand, reserved FROM inventory.stock WHERE sku = 'HOT-1'`)).rows[0];
    expect(row).toEqual({ on_hand: 50, reserved: 50 });
    const lines = (await t.pool.query(`SELECT count(*)::int AS n, sum(quantity)::int AS q FROM inventory.reservation_line WHERE sku = 'HOT-1'`)).rows[0];
    expect(lines).toEqual({ n: 50, q: 50 });
    const stream = await t.events.readStream('stock-HOT-1@WH-SH');
    expect(stream.filter((e) => e.type === 'StockLineReserved')).toHaveLength(50);
    expect(stream.map((e) => e.streamPosition)).toEqual(stream.map((_, i) => i));
  });

  it('goes through the event store checks: a ledger row out of step with its stream commits nothing', async () => {
    await sku('DRIFT-1');
    const a = t.instance();
    await a.execute([{ type: 'ReceiveStock', meta: t.meta(), sku: 'DRIFT-1', warehouseId: 'WH-SH', quantity: 10 }]);
    const stream = 'stock-DRIFT-1@WH-SH';
    const before = await t.events.readStream(stream);
    const receive = (): InventoryCommand[] => [{ type: 'ReceiveStock', meta: t.meta(), sku: 'DRIFT-1', warehouseId: 'WH-SH', quantity: 5 }];

    // Row ahead of the stream (the row was bumped without an event): appending at the row's
    // revision would leave a hole in the stream, which no unique constraint catches.
    await t.pool.query(`UPDATE inventory.stock SET version = version + 1 WHERE sku = 'DRIFT-1'`);
    await expect(a.execute(receive())).rejects.toBeInstanceOf(WrongExpectedVersion);
    expect(await t.events.readStream(stream)).toHaveLength(before.length);
    await t.pool.query(`UPDATE inventory.stock SET version = version - 1 WHERE sku = 'DRIFT-1'`);

    // Stream ahead of the row (a writer that skipped the unit of work appended to it).
    const meta = { correlationId: 'foreign', causationId: null, occurredAt: '2026-05-01T10:00:00.000Z' };
    await t.events.appendToStream(stream, [{ eventId: t.ulid(), type: 'ForeignNote', data: {}, metadata: meta }], { expectedRevision: before.length - 1 });
    await expect(a.execute(receive())).rejects.toBeInstanceOf(WrongExpectedVersion);
    const row = (await t.pool.query(`SELECT on_hand, version::int FROM inventory.stock WHERE sku = 'DRIFT-1'`)).rows[0];
    expect(row).toEqual({ on_hand: 10, version: before.length - 1 });
    expect((await t.events.readStream(stream)).map((e) => e.type).slice(-1)).toEqual(['ForeignNote']);
  });
});

describe('stock unit of work: round trips per reservation transaction (issue #10)', () => {
  let t: Awaited<ReturnType<typeof inventoryTestDatabase>>;

  beforeAll(async () => {
    t = await inventoryTestDatabase('inv_uow_rt');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a Kafka ReserveStock is BEGIN+lock, claim-and-read, write, append, COMMIT: 5 round trips, the locks before any read; a redelivery changes nothing', async () => {
    await t.store.upsertSku({ sku: 'RT-1', name: 'RT-1', allowBackorder: false, safetyStock: 0, lowStockThreshold: 0, channelRules: [{ channel: 'tmall' }] });
    const uow = t.instance(1);
    await uow.execute([{ type: 'ReceiveStock', meta: t.meta(), sku: 'RT-1', warehouseId: 'WH-SH', quantity: 3 }]);
    // Count what the transaction's connection sends (the pool has one connection).
    const sent: string[] = [];
    const pool = (uow as unknown as { o: { store: { pool: import('pg').Pool } } }).o.store.pool;
    const client = await pool.connect();
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      sent.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string }).text));
      return query(...a);
    };
    client.release();
    const reserve = (eventId: string, orderId = 'rt-o1', quantity = 2): InventoryCommand => ({
      type: 'ReserveStock',
      meta: t.meta({ dedupe: { kind: 'inbox', group: 'inventory', eventId, eventType: 'ReserveStock', topic: 'inventory.commands.v1', partition: 0, offset: '7' } }),
      orderId,
      reservationId: `r-${eventId}`,
      channel: 'tmall',
      lines: [{ lineId: '1', sku: 'RT-1', quantity }],
    });
    const [first] = await uow.execute([reserve('evt-rt-1')]);
    expect(first.status === 'applied' && first.outcome.kind === 'reservation' && first.outcome.result.kind).toBe('reserved');
    // The warehouse table is read before the transaction (the service caches it).
    const tx = (): string[] => sent.slice(sent.findIndex((q) => q.startsWith('BEGIN')));
    expect(tx()).toHaveLength(5); // 12 before issue #10
    const [lock, load, write, , commit] = tx();
    // The locks are a statement prepared on the connection once, then executed with the keys as literals.
    expect(lock).toMatch(new RegExp(`^BEGIN; ${GENERIC}; (PREPARE (flowline_esb_\\w+) \\(text\\[\\], text\\[\\]\\) AS SELECT pg_advisory_xact_lock[^;]*; )?EXECUTE flowline_esb_\\w+\\(ARRAY\\[`));
    expect(lock).not.toContain('inventory.');
    expect(load).toContain('INSERT INTO');
    expect(load).toContain('inventory.stock');
    expect(write).toContain('UPDATE inventory.stock');
    expect(write).toContain('INSERT INTO inventory.reservation_line');
    expect(commit).toBe('COMMIT');

    sent.length = 0;
    const [again] = await uow.execute([reserve('evt-rt-1')]);
    expect(again.status).toBe('duplicate');
    expect(tx()).toEqual([expect.stringMatching(new RegExp(`^BEGIN; ${GENERIC}; EXECUTE flowline_esb_\\w+\\(ARRAY\\[`)), expect.stringContaining('INSERT INTO'), 'COMMIT']); // nothing to write, nothing prepared again
    const row = (await t.pool.query(`SELECT on_hand, reserved FROM inventory.stock WHERE sku = 'RT-1'`)).rows[0];
    expect(row).toEqual({ on_hand: 3, reserved: 2 });
    expect((await t.events.readStream('reservation-rt-o1')).map((e) => e.type)).toEqual(['ReservationConfirmed']);

    // The lock's keys travel as escaped literals: quotes and backslashes are keys like any other.
    const odd = "rt-o'2\\'; SELECT 1; --";
    const [third] = await uow.execute([reserve('evt-rt-2', odd, 1)]);
    expect(third.status === 'applied' && third.outcome.kind === 'reservation' && third.outcome.result.kind).toBe('reserved');
    expect((await t.pool.query(`SELECT count(*)::int AS n FROM inventory.reservation WHERE order_id = $1`, [odd])).rows[0].n).toBe(1);

    // A NUL cannot travel in a simple query (08P01, read as a connection fault and retried for
    // ever): refused as a content error before anything is sent, and the next command runs.
    const nul = await uow.execute([reserve('evt-rt-3', 'rt-o\u00003', 1)]).then(
      () => 'applied',
      (e: unknown) => (e as Error).message,
    );
    expect(nul).toMatch(/NUL character/);
    const [fourth] = await uow.execute([reserve('evt-rt-4', 'rt-o4', 1)]);
    expect(fourth.status).toBe('applied');
  });
});
