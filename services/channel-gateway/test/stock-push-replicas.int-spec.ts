import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShopAccount } from '../src/application/connector.port';
import { StockPushService, type StockAdapter } from '../src/application/stock-push.service';
import { atpVersion } from '../src/api/messaging/atp.consumer';
import { migrateChannelGateway } from '../src/infra/pg-channel-store';

/**
 * Two channel-gateway replicas push stock at once (each runs its pusher) against the real
 * PostgreSQL: one (shop, SKU) is pushed by one replica at a time, and the shop never receives an
 * older figure after a newer one (the whole-system scale-out test saw 999926 then 999927 before).
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const shop: ShopAccount = { platform: 'douyin', shopId: 'dy-replicas', appKey: 'k', appSecret: 's', accessToken: 't', baseUrl: 'http://127.0.0.1:9' };

/** A shop API that records what it received and can hold a call until released. */
function gatedShop() {
  const received: { sku: string; quantity: number }[] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  let entered: (() => void) | null = null;
  const adapter: StockAdapter = {
    platform: 'douyin',
    async setQuantity(_shop, sku, quantity) {
      entered?.();
      if (gate) await gate;
      received.push({ sku, quantity });
    },
  };
  return {
    adapter,
    received,
    /** The next call blocks until the returned release(); resolves `inside` once a call is in. */
    hold() {
      gate = new Promise((resolve) => (open = resolve));
      const inside = new Promise<void>((resolve) => (entered = resolve));
      return {
        inside,
        release: () => {
          gate = null;
          entered = null;
          open?.();
        },
      };
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase('channel_gateway_stock_push');
  pool = new Pool({ connectionString: db.url, max: 6 });
  await migrateChannelGateway(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('stock push with several replicas (real PostgreSQL)', () => {
  it('one replica pushes a SKU at a time, with the figure it read under the lock; the newer figure follows, never an older one after it', async () => {
    const fake = gatedShop();
    const replica = () => new StockPushService({ pool, shops: [shop], adapters: [fake.adapter], perSecond: 100, now: () => Date.now() });
    const [a, b] = [replica(), replica()];
    const record = (atp: number, version: number) => a.recordAtp(pool, { sku: 'SKU-R', channel: 'douyin', atp }, version);

    await record(100, 10);
    const held = fake.hold();
    const first = a.pushDue(); // A sends 100 (version 10) and is held inside the shop's API
    await held.inside;
    await record(99, 11); // a newer figure arrives meanwhile
    expect(await b.pushDue()).toBe(0); // B finds the SKU locked by A: it does not send 99 past A's 100
    held.release();
    expect(await first).toBe(1);
    // Version 11 is still due (A pushed 10): the next round, whichever replica, sends 99.
    expect(await b.pushDue()).toBe(1);
    expect(await a.pushDue()).toBe(0);
    expect(fake.received).toEqual([
      { sku: 'SKU-R', quantity: 100 },
      { sku: 'SKU-R', quantity: 99 },
    ]);
    const row = await pool.query<{ pushed_atp: number; pushed_version: string; version: string }>(`SELECT pushed_atp, pushed_version::text, version::text FROM stock_push WHERE sku = 'SKU-R'`);
    expect(row.rows[0]).toEqual({ pushed_atp: 99, pushed_version: '11', version: '11' });
  });

  it('many rounds of two replicas racing over changing figures: the shop sees every SKU go only down and ends on the newest', async () => {
    const fake = gatedShop();
    const replica = () => new StockPushService({ pool, shops: [shop], adapters: [fake.adapter], perSecond: 1_000, now: () => Date.now() });
    const [a, b] = [replica(), replica()];
    const skus = ['SKU-M0', 'SKU-M1', 'SKU-M2'];
    let version = 100;
    for (let round = 0; round < 40; round++) {
      for (const sku of skus) await a.recordAtp(pool, { sku, channel: 'douyin', atp: 1_000 - round }, ++version);
      await Promise.all([a.pushDue(), b.pushDue(), a.pushDue()]);
    }
    while ((await a.pushDue()) + (await b.pushDue()) > 0);
    for (const sku of skus) {
      const seen = fake.received.filter((r) => r.sku === sku).map((r) => r.quantity);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((q, i) => i > 0 && q > seen[i - 1]), `${sku}: ${seen.join(' ')}`).toEqual([]);
      expect(seen.at(-1)).toBe(1_000 - 39);
    }
  });

  it('a shop allowance is shared: two replicas pushing at once send perSecond updates in the window between them, not each', async () => {
    const fake = gatedShop();
    const budgetShop: ShopAccount = { ...shop, shopId: 'dy-budget' };
    // A one-minute window: what is tested is the sharing, not how fast the round runs.
    const replica = () => new StockPushService({ pool, shops: [budgetShop], adapters: [fake.adapter], perSecond: 3, now: () => Date.now(), rateWindowMs: 60_000 });
    const [a, b] = [replica(), replica()];
    for (let i = 0; i < 12; i++) await a.recordAtp(pool, { sku: `SKU-B${i}`, channel: 'douyin', atp: 50 + i }, 1_000 + i);
    const sent = await Promise.all([a.pushDue(), b.pushDue(), a.pushDue(), b.pushDue()]);
    expect(sent.reduce((x, y) => x + y, 0)).toBe(3);
    expect(fake.received).toHaveLength(3);
    // Another shop has its own allowance.
    const other = new StockPushService({ pool, shops: [{ ...shop, shopId: 'dy-budget-2' }], adapters: [fake.adapter], perSecond: 3, now: () => Date.now(), rateWindowMs: 60_000 });
    await other.recordAtp(pool, { sku: 'SKU-B0', channel: 'douyin', atp: 7 }, 2_000);
    expect(await other.pushDue()).toBe(1);
    const due = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM stock_push WHERE shop_id = 'dy-budget' AND version > pushed_version`);
    expect(due.rows[0].n).toBe(9);
  });
  it('a SKU the shop keeps refusing backs off and goes behind: a real change gets its turn instead of being starved', async () => {
    // Found on the running demo: a shop's unlisted SKUs were the oldest due rows, failed every round
    // and used its whole allowance, so a sold-out SKU stayed offered on the platform.
    const starved: ShopAccount = { ...shop, shopId: 'dy-starved' };
    const received: string[] = [];
    const adapter: StockAdapter = {
      platform: 'douyin',
      async setQuantity(_shop, sku, quantity) {
        if (sku.startsWith('SKU-UNLISTED')) throw new Error(`no listing for ${sku}`);
        received.push(`${sku}=${quantity}`);
      },
    };
    const pusher = new StockPushService({ pool, shops: [starved], adapters: [adapter], perSecond: 5, now: () => Date.now(), rateWindowMs: 1_000 });
    for (let i = 0; i < 8; i++) await pusher.recordAtp(pool, { sku: `SKU-UNLISTED-${i}`, channel: 'douyin', atp: 10 }, 5_000 + i);
    await pusher.recordAtp(pool, { sku: 'SKU-SOLD-OUT', channel: 'douyin', atp: 0 }, 5_100);
    expect(await pusher.pushDue()).toBe(0); // five unlisted SKUs tried, refused: the allowance is spent
    await new Promise((r) => setTimeout(r, 1_100));
    // The refused five wait out their backoff; the other three and the real change share the next second.
    expect(await pusher.pushDue()).toBe(1);
    expect(received).toEqual(['SKU-SOLD-OUT=0']);
    const rows = await pool.query<{ sku: string; attempts: number; waiting: boolean; last_error: string | null }>(
      `SELECT sku, attempts, next_attempt_at > now() AS waiting, last_error FROM stock_push WHERE shop_id = 'dy-starved' ORDER BY sku`,
    );
    expect(rows.rows.find((r) => r.sku === 'SKU-SOLD-OUT')).toMatchObject({ attempts: 0, waiting: null, last_error: null });
    const refused = rows.rows.filter((r) => r.sku.startsWith('SKU-UNLISTED'));
    expect(refused).toHaveLength(8);
    expect(refused.every((r) => r.attempts === 1 && r.waiting === true && r.last_error?.startsWith('no listing'))).toBe(true);
    // A new figure for a SKU in backoff (sold out after a passing API error) is due at once again.
    await pusher.recordAtp(pool, { sku: 'SKU-UNLISTED-0', channel: 'douyin', atp: 0 }, 6_000);
    const again = await pool.query<{ waiting: boolean | null; attempts: number }>(`SELECT next_attempt_at > now() AS waiting, attempts FROM stock_push WHERE shop_id = 'dy-starved' AND sku = 'SKU-UNLISTED-0'`);
    expect(again.rows[0]).toEqual({ waiting: null, attempts: 1 });
  });
});

describe('stock push versions: availability stream revisions above the Kafka offsets of before (ADR 0023)', () => {
  it('the first figure ordered by revision replaces one an earlier build versioned by offset, a due one stays due, and an earlier build can never replace a newer figure', async () => {
    const service = new StockPushService({ pool, shops: [{ ...shop, shopId: 'dy-versions' }], adapters: [], perSecond: 5, now: () => Date.now() });
    // Rows an earlier build wrote: version = Kafka offset + 1 of inventory.events.v1.
    await pool.query(`INSERT INTO stock_push (platform, shop_id, sku, atp, version, pushed_version) VALUES ('douyin', 'dy-versions', 'PUSHED', 5, 90001, 90001), ('douyin', 'dy-versions', 'DUE', 7, 90002, 80000)`);
    const rows = async () => (await pool.query<{ sku: string; atp: number; due: boolean }>(`SELECT sku, atp, version > pushed_version AS due FROM stock_push WHERE shop_id = 'dy-versions' ORDER BY sku`)).rows;
    // The availability stream's first event (revision 0) from inventory.stock.v1.
    await service.recordAtp(pool, { sku: 'PUSHED', channel: 'douyin', atp: 4 }, atpVersion({ streamPosition: 0 }));
    expect(await rows()).toEqual([{ sku: 'DUE', atp: 7, due: true }, { sku: 'PUSHED', atp: 4, due: true }]);
    // An earlier build still running (rolling update) records an offset-versioned figure: it loses.
    await service.recordAtp(pool, { sku: 'PUSHED', channel: 'douyin', atp: 9 }, 123_456_789 + 1);
    // An older revision loses too; a newer one wins.
    await service.recordAtp(pool, { sku: 'DUE', channel: 'douyin', atp: 3 }, atpVersion({ streamPosition: 7 }));
    await service.recordAtp(pool, { sku: 'DUE', channel: 'douyin', atp: 8 }, atpVersion({ streamPosition: 6 }));
    expect(await rows()).toEqual([{ sku: 'DUE', atp: 3, due: true }, { sku: 'PUSHED', atp: 4, due: true }]);
  });
});
