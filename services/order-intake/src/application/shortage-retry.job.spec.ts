import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { anOrderSubmission, commandMetadata, grandTotalOf, lines } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import type { SkuStockNow } from '../domain/policies/shortage-retry.policy';
import { parseRuleSet } from '../domain/rules/rule-set.parser';
import { InMemoryOrderStore } from '../infra/in-memory-order-store';
import { ChangeOrderHandler } from './change-order.handler';
import { PlaceOrderHandler } from './place-order.handler';
import { fixedRuleSet } from './rule-set.source';
import { ShortageRetryJob, StockUnavailable, type StockAvailability } from './shortage-retry.job';

const rules = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../../rules/default.rules.yaml'), 'utf8')));
const NOW = '2025-11-25T08:00:00.000Z';
const AFTER_RECEIPT = '2025-11-25T09:00:00.000Z';

let n = 0;
const nextId = () => `01JDGZ6M3V8Q0000000000S${String(++n).padStart(3, '0')}`;

/** Inventory's figures as the test sets them; counts the SKUs it was asked for. */
class FakeStock implements StockAvailability {
  asked: string[][] = [];
  constructor(public figures: Record<string, SkuStockNow>, public failure?: Error) {}
  async stockOf(skus: readonly string[]) {
    this.asked.push([...skus]);
    if (this.failure) throw this.failure;
    return new Map(skus.filter((s) => this.figures[s]).map((s) => [s, this.figures[s]!]));
  }
}

function setup(figures: Record<string, SkuStockNow> = {}) {
  const store = new InMemoryOrderStore();
  const changes = new ChangeOrderHandler(store, rules);
  const stock = new FakeStock(figures);
  return { store, changes, stock, place: new PlaceOrderHandler(store, rules), job: new ShortageRetryJob(store, changes, stock, 500, 2) };
}

/** A paid order that inventory refused (RecordStockShortage: its own reaction flags the exception STOCK_SHORTAGE in the same commit). */
async function waitingOrder(s: ReturnType<typeof setup>, lineSpecs: Parameters<typeof lines>, missing: { sku: string; requested: number; available: number }[], at = NOW) {
  const orderId = nextId();
  const submission = anOrderSubmission({ channelOrderId: `C-${orderId}`, lines: lines(...lineSpecs) });
  await s.place.execute({ type: 'PlaceOrder', data: { orderId, order: submission }, metadata: commandMetadata({ now: at }) });
  await s.changes.execute({ type: 'ConfirmPayment', data: { orderId, amount: grandTotalOf(submission), currency: 'CNY' }, metadata: commandMetadata({ now: at }) });
  await s.changes.execute({ type: 'RecordStockShortage', data: { orderId, missing }, metadata: commandMetadata({ now: at }) });
  return orderId;
}

describe('ShortageRetryJob (到货重新预占)', () => {
  it('resolves, first placed first, the orders the stock covers now, passes over one too large, and asks inventory to reserve them again in the same commit', async () => {
    const s = setup({ VASE: { available: 4, changedAt: AFTER_RECEIPT } });
    const old = await waitingOrder(s, [{ sku: 'VASE', quantity: 2 }], [{ sku: 'VASE', requested: 2, available: 0 }], '2025-11-25T07:00:00.000Z');
    const big = await waitingOrder(s, [{ sku: 'VASE', quantity: 3 }], [{ sku: 'VASE', requested: 3, available: 0 }], '2025-11-25T07:10:00.000Z');
    const small = await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }], '2025-11-25T07:20:00.000Z');
    expect((await s.store.waitingForStock({ limit: 10 })).map((r) => [r.orderId, r.shortSkus])).toEqual([[old, ['VASE']], [big, ['VASE']], [small, ['VASE']]]);

    const outcome = await s.job.runOnce(AFTER_RECEIPT);
    expect(outcome).toEqual({ retried: [old, small], waiting: [{ orderId: big, reason: 'not_enough_stock' }], skipped: [], candidates: 3 });
    expect(s.stock.asked).toEqual([['VASE']]);
    for (const id of [old, small]) {
      const loaded = await s.store.load(id);
      expect(loaded.state).toMatchObject({ status: 'paid', exception: null });
      expect(loaded.events.at(-1)).toMatchObject({ type: 'OrderExceptionResolved', metadata: { actor: { kind: 'service', id: 'order-intake.shortage-retry' } } });
      // The process manager's reaction in the same commit: inventory is asked for every line again.
      const outbox = await s.store.events.readStream(`process-${id}`);
      expect(outbox.map((e) => e.type)).toEqual(['ReserveStock', 'ReserveStock']);
      expect(outbox.at(-1)).toMatchObject({ data: { orderId: id } });
    }
    expect((await s.store.load(big)).state).toMatchObject({ exception: { code: 'STOCK_SHORTAGE' } });
    expect((await s.store.waitingForStock({ limit: 10 })).map((r) => r.orderId)).toEqual([big]);
  });

  it('resolves an order once per shortage report: two replicas at once, then a later run, add nothing', async () => {
    const s = setup({ VASE: { available: 9, changedAt: AFTER_RECEIPT } });
    const id = await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }]);
    const [a, b] = await Promise.all([s.job.runOnce(AFTER_RECEIPT), s.job.runOnce(AFTER_RECEIPT)]);
    expect(new Set([...a.retried, ...a.skipped, ...b.retried, ...b.skipped])).toEqual(new Set([id]));
    // One effect: the command id makes the events (and the outbox entry) of both runs the same ones.
    expect((await s.store.load(id)).events.filter((e) => e.type === 'OrderExceptionResolved')).toHaveLength(1);
    expect((await s.store.events.readStream(`process-${id}`)).map((e) => e.type)).toEqual(['ReserveStock', 'ReserveStock']);
    expect(await s.job.runOnce(AFTER_RECEIPT)).toEqual({ retried: [], waiting: [], skipped: [], candidates: 0 });
  });

  it('with a SKU, only the orders short of it; a held order and an unchanged stock keep waiting', async () => {
    const s = setup({ VASE: { available: 9, changedAt: AFTER_RECEIPT }, CUP: { available: 9, changedAt: '2025-11-24T00:00:00.000Z' } });
    const vase = await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }]);
    const cup = await waitingOrder(s, [{ sku: 'CUP', quantity: 1 }], [{ sku: 'CUP', requested: 1, available: 0 }]);
    const held = await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }]);
    await s.changes.execute({ type: 'PlaceHold', data: { orderId: held, reason: '地址待确认' }, metadata: commandMetadata({ now: NOW }) });
    expect(await s.job.runOnce(AFTER_RECEIPT, { sku: 'CUP' })).toEqual({ retried: [], waiting: [{ orderId: cup, reason: 'stock_unchanged' }], skipped: [], candidates: 1 });
    expect(await s.job.runOnce(AFTER_RECEIPT, { sku: 'VASE', person: { kind: 'user', id: 'u-admin', role: 'admin', name: '管理员' } })).toMatchObject({ retried: [vase], candidates: 1 });
    expect((await s.store.load(vase)).events.at(-1)).toMatchObject({ metadata: { actor: { kind: 'user', id: 'u-admin' } } });
  });

  it('the timer goes round a long list: each run looks at the next orders after where the last one stopped', async () => {
    const s = setup({ VASE: { available: 0, changedAt: AFTER_RECEIPT } });
    const job = new ShortageRetryJob(s.store, s.changes, s.stock, 2, 2);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }]));
    const looked = async () => (await job.runOnce(AFTER_RECEIPT)).waiting.map((w) => w.orderId);
    expect(await looked()).toEqual([ids[0], ids[1]]);
    expect(await looked()).toEqual([ids[2]]);
    expect(await looked()).toEqual([ids[0], ids[1]]);
    // A person's run (or one for a SKU) always starts from the first placed.
    expect((await job.runOnce(AFTER_RECEIPT, { person: { kind: 'user', id: 'u-admin', role: 'admin' } })).waiting.map((w) => w.orderId)).toEqual([ids[0], ids[1]]);
  });

  it('counts a row read twice (a page boundary finer than a millisecond) once', async () => {
    const s = setup({ VASE: { available: 3, changedAt: AFTER_RECEIPT } });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }]));
    const read = s.store.waitingForStock.bind(s.store);
    // Every page after the first starts with the previous page's last row again.
    s.store.waitingForStock = async (f) => {
      const rows = await read(f);
      if (!f.after) return rows;
      const again = (await read({ limit: 1000 })).find((r) => r.orderId === f.after!.orderId);
      return again ? [again, ...rows].slice(0, f.limit) : rows;
    };
    const outcome = await new ShortageRetryJob(s.store, s.changes, s.stock, 500, 2).runOnce(AFTER_RECEIPT);
    expect(outcome).toMatchObject({ retried: ids, candidates: 3 });
  });

  it('runs on one replica take turns, and idle() settles only when the runs started so far have ended (what a shutdown waits for)', async () => {
    const s = setup({ VASE: { available: 1, changedAt: AFTER_RECEIPT } });
    const id = await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stockOf = s.stock.stockOf.bind(s.stock);
    let reads = 0;
    s.stock.stockOf = async (skus) => (reads++, await gate, stockOf(skus));
    const first = s.job.runOnce(AFTER_RECEIPT);
    const second = s.job.runOnce(AFTER_RECEIPT, { person: { kind: 'user', id: 'u-admin', role: 'admin' } });
    let idle = false;
    const settled = s.job.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 20));
    // The first run waits for the stock; the second has not started reading.
    expect([idle, reads]).toEqual([false, 1]);
    release();
    expect((await first).retried).toEqual([id]);
    // The second run began after the first had resolved the order: nothing left to spend the unit on.
    expect(await second).toEqual({ retried: [], waiting: [], skipped: [], candidates: 0 });
    await settled;
    expect(idle).toBe(true);
  });

  it('reads every page of waiting orders, and retries nothing when the stock cannot be read', async () => {
    const s = setup({ VASE: { available: 9, changedAt: AFTER_RECEIPT } });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await waitingOrder(s, [{ sku: 'VASE', quantity: 1 }], [{ sku: 'VASE', requested: 1, available: 0 }], `2025-11-25T07:0${i}:00.000Z`));
    s.stock.failure = new Error('connect ECONNREFUSED 127.0.0.1:3002');
    await expect(s.job.runOnce(AFTER_RECEIPT)).rejects.toBeInstanceOf(StockUnavailable);
    expect(await s.store.waitingForStock({ limit: 10 })).toHaveLength(5);
    s.stock.failure = undefined;
    expect((await s.job.runOnce(AFTER_RECEIPT)).retried).toEqual(ids);
  });
});
