import { CLEAR_PHONE, type OrderSubmission } from '@flowline/contracts';
import { describe, expect, it } from 'vitest';
import type { ChannelOrderDraft } from '../domain/import/map-orders';
import { readTable } from '../infra/file-reader';
import { ProfileRegistry } from '../infra/profile-registry';
import type { ChannelOrderRecord, ChannelStore } from './channel-store.port';
import type { ImportReport } from './import-report';
import { ImportService } from './import.service';
import { OrderCommandRefused, type OrderIntakePort, type PaymentBody, type PlacedOrder } from './order-intake.port';

// A dry run must report what the real import of the same file then does: the same orders new,
// duplicate, to update and refused. Both run here against one in-memory store and a stand-in for
// order-intake that claims (channel, NFKC channel order id) and refuses what its PlaceOrder DTO refuses.

function memoryStore(): ChannelStore & { orders: Map<string, ChannelOrderRecord> } {
  const orders = new Map<string, ChannelOrderRecord>();
  let q = 0;
  const store = {
    orders,
    findOrder: async (channel: string, id: string) => orders.get(`${channel}|${id}`) ?? null,
    saveOrder: async (rec: ChannelOrderRecord, _d: ChannelOrderDraft) => void orders.set(`${rec.channel}|${rec.channelOrderId}`, structuredClone(rec)),
    findUnfinishedRun: async () => null,
    startRun: async () => undefined,
    finishRun: async () => undefined,
    quarantine: async () => `q${++q}`,
    resolveQuarantineOf: async () => undefined,
  };
  return store as unknown as ChannelStore & { orders: Map<string, ChannelOrderRecord> };
}

/**
 * order-intake as channel-gateway meets it: an Idempotency-Key replays its first answer (another body
 * under it: 422 IDEMPOTENCY_KEY_REUSED), a channel order is claimed once, a payment that is not due
 * (paid already) is refused with 409 ORDER_BALANCE_NOT_DUE; `refusePayments` refuses every payment.
 */
function fakeOrderIntake(opts: { refusePayments?: boolean } = {}): OrderIntakePort & { placed: string[]; calls: string[] } {
  const claims = new Map<string, string>();
  const orders = new Map<string, { paidTotal: number | null; grandTotal: number }>();
  const answers = new Map<string, { body: string; answer: PlacedOrder }>();
  const placed: string[] = [];
  const calls: string[] = [];
  let n = 0;
  const ok = async () => undefined;
  const refusal = () => new OrderCommandRefused(422, 'PAYMENT_AMOUNT_MISMATCH', 'payment of 1 does not equal the amount due 12800');
  const order = (orderId: string) => {
    const o = orders.get(orderId);
    if (!o) throw new OrderCommandRefused(404, 'ORDER_NOT_FOUND', `order ${orderId} not found`);
    return o;
  };
  const view = (orderId: string, created: boolean): PlacedOrder => ({ orderId, created, ...order(orderId) });
  return {
    placed,
    calls,
    async place(s: OrderSubmission, idempotencyKey: string, _person?: unknown, payment?: PaymentBody) {
      calls.push(`place ${s.channelOrderId}${payment ? ` paid ${payment.amount}` : ''} [${idempotencyKey.split(':').at(-1)}]`);
      const body = JSON.stringify([s, payment ?? null]);
      const seen = answers.get(idempotencyKey);
      if (seen) {
        if (seen.body !== body) throw new OrderCommandRefused(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with another request');
        return seen.answer;
      }
      // order-intake's PlaceOrderDto: NFKC channel order id; a clear phone is digits; a title 1-200 characters.
      const key = `${s.channel}|${s.channelOrderId.normalize('NFKC')}`;
      const known = claims.get(key);
      if (known) return view(known, false);
      if (!s.recipientProtection?.masked.includes('phone') && !CLEAR_PHONE.test(s.shippingAddress.phone)) throw new OrderCommandRefused(400, 'VALIDATION_FAILED', 'shippingAddress.phone must be digits');
      if (s.lines.some((l) => l.title.length > 200)) throw new OrderCommandRefused(400, 'VALIDATION_FAILED', 'lines.0.title must be 1-200 characters');
      if (payment && opts.refusePayments) throw refusal();
      const orderId = `o${++n}`;
      claims.set(key, orderId);
      const grandTotal = s.lines.reduce((t, l) => t + l.quantity * l.unitPrice - (l.lineDiscount ?? 0), 0) + (s.shippingFee ?? 0) - (s.orderDiscount ?? 0);
      orders.set(orderId, { paidTotal: payment ? payment.amount : null, grandTotal });
      placed.push(s.channelOrderId);
      const answer = view(orderId, true);
      answers.set(idempotencyKey, { body, answer });
      return answer;
    },
    async confirmPayment(orderId: string, p: PaymentBody) {
      calls.push(`pay ${orderId} ${p.amount}`);
      const o = order(orderId);
      if (o.paidTotal !== null && o.paidTotal >= o.grandTotal) throw new OrderCommandRefused(409, 'ORDER_BALANCE_NOT_DUE', 'nothing is due');
      if (opts.refusePayments) throw refusal();
      o.paidTotal = (o.paidTotal ?? 0) + p.amount;
    },
    cancel: ok,
    hold: ok,
    requestRefund: ok,
    confirmRefund: ok,
  };
}

const HEADER = '订单号,订单状态,订单成交时间,支付时间,用户实付金额(元),商家编码-SKU维度,商品,商品数量(件),商品总价(元),收货人,手机,省,市,区,街道,详细地址';
const row = (id: string, { status = '待发货', phone = '13812345678', title = '明前龙井 250g', placedAt = '2026-12-05 10:03' } = {}) =>
  `${id},${status},${placedAt},2026-12-05 10:04,128.00,TEA-LJ-250,${title},1,128.00,吴九,${phone},浙江省,杭州市,西湖区,文新街道,1号`;
const file = (name: string, ...rows: string[]) => ({ name, bytes: Buffer.from([HEADER, ...rows].join('\r\n')) });

function setup(opts: { refusePayments?: boolean } = {}) {
  const store = memoryStore();
  const orderIntake = fakeOrderIntake(opts);
  const service = new ImportService({ store, orderIntake, profiles: new ProfileRegistry(), readTable, now: () => new Date('2026-12-06T00:00:00Z') });
  const run = (f: ReturnType<typeof file>, dryRun = false) => service.run({ channel: 'pinduoduo', file: f, dryRun });
  return { store, orderIntake, run };
}

const counts = (r: ImportReport) => ({
  ordersSeen: r.ordersSeen,
  imported: r.imported,
  duplicates: r.duplicates,
  updated: r.updated,
  rejected: r.rejected.map((x) => [x.channelOrderId, x.reasons.map((y) => y.code)]),
  autoIngestRate: r.autoIngestRate,
});

describe('an import dry run reports what the import then does', () => {
  it('orders order-intake would refuse (a phone that is not digits, a title over 200 characters) are rejected in the dry run as in the import', async () => {
    const { orderIntake, run } = setup();
    const f = file('pdd.csv', row('231206-1'), row('231206-2', { phone: '(0571)88886666' }), row('231206-3', { title: '龙'.repeat(201) }));
    const dry = await run(f, true);
    expect(orderIntake.placed).toEqual([]);
    const real = await run(f);
    expect(counts(real)).toMatchObject({ ordersSeen: 3, imported: 1, rejected: [['231206-2', ['ORDER_INVALID']], ['231206-3', ['ORDER_INVALID']]] });
    expect(counts(dry)).toEqual(counts(real));
    // Refused before a round trip, with the field named in both languages.
    expect(orderIntake.placed).toEqual(['231206-1']);
    expect(real.rejected[0].reasons[0]).toMatchObject({ column: '手机', en: expect.stringContaining('phone'), zh: expect.stringContaining('手机') });
  });

  it('an order placed more than a day after now (a broken clock or feed) is refused in the dry run as in the import, before order-intake is called', async () => {
    const { orderIntake, run } = setup();
    const f = file('pdd.csv', row('231206-1'), row('231206-7', { placedAt: '2026-12-09 10:00' }));
    const dry = await run(f, true);
    const real = await run(f);
    expect(counts(real)).toMatchObject({ ordersSeen: 2, imported: 1, rejected: [['231206-7', ['ORDER_INVALID']]] });
    expect(counts(dry)).toEqual(counts(real));
    expect(real.rejected[0].reasons[0]).toMatchObject({ code: 'ORDER_INVALID', column: '订单成交时间' });
    expect(real.rejected[0].reasons[0].en).toContain('(placedAt) is more than a day after the order is received');
    expect(orderIntake.placed).toEqual(['231206-1']);
  });

  it('after an import, a dry run of a re-export counts known orders as duplicates or updates exactly as the re-import does', async () => {
    const { run } = setup();
    await run(file('a.csv', row('231206-1'), row('231206-2')));
    const again = file('b.csv', row('231206-1'), row('231206-2', { status: '已取消' }), row('231206-4'));
    const dry = await run(again, true);
    const real = await run(again);
    expect(counts(real)).toMatchObject({ ordersSeen: 3, imported: 1, duplicates: 1, updated: 1 });
    expect(counts(dry)).toEqual(counts(real));
  });

  it('an order already placed still gets its cancel when the export carries a value PlaceOrder would refuse (a person corrected it in the quarantine; the platform did not)', async () => {
    const { run } = setup();
    await run(file('a.csv', row('231206-8')));
    const again = file('b.csv', row('231206-8', { status: '已取消', phone: '(0571)88886666' }));
    const dry = await run(again, true);
    const real = await run(again);
    expect(counts(real)).toMatchObject({ ordersSeen: 1, imported: 0, updated: 1, rejected: [] });
    expect(counts(dry)).toEqual(counts(real));
  });

  it('an order id written with fullwidth digits is the order order-intake already has (its claim is NFKC): a duplicate, in the dry run and the import', async () => {
    const { store, orderIntake, run } = setup();
    await run(file('a.csv', row('231206-1')));
    const fullwidth = file('b.csv', row('２３１２０６-１'), row('231206-5'));
    const dry = await run(fullwidth, true);
    const real = await run(fullwidth);
    expect(counts(real)).toMatchObject({ ordersSeen: 2, imported: 1, duplicates: 1 });
    expect(counts(dry)).toEqual(counts(real));
    expect(orderIntake.placed).toEqual(['231206-1', '231206-5']);
    expect([...store.orders.keys()]).toEqual(['pinduoduo|231206-1', 'pinduoduo|231206-5']);
  });

  it('one order written twice in a file, once with fullwidth digits, is one order (its rows are repeats)', async () => {
    const { orderIntake, run } = setup();
    const f = file('a.csv', row('231206-1'), row('２３１２０６-１'));
    const dry = await run(f, true);
    const real = await run(f);
    expect(counts(real)).toMatchObject({ ordersSeen: 1, imported: 1 });
    expect(real.duplicateRows).toBe(1);
    expect(counts(dry)).toEqual(counts(real));
    expect(orderIntake.placed).toEqual(['231206-1']);
  });
});

/**
 * A row imported (placed and paid in one call), then its record lost (a run that stopped before
 * saving it; here: another record store with the same order-intake). `again` imports into that store.
 */
async function importedThenRecordLost(line: string) {
  const first = setup();
  await first.run(file('pdd.csv', line));
  const store = memoryStore();
  const service = new ImportService({ store, orderIntake: first.orderIntake, profiles: new ProfileRegistry(), readTable, now: () => new Date('2026-12-06T00:00:00Z') });
  first.orderIntake.calls.length = 0;
  return { first, store, again: (f: ReturnType<typeof file>) => service.run({ channel: 'pinduoduo', file: f, dryRun: false }) };
}

describe('a platform order that arrives paid is placed with its payment in one call', () => {
  it('one PlaceOrder with the payment; the record holds both steps, and a re-import does nothing more', async () => {
    const { store, orderIntake, run } = setup();
    const r = await run(file('pdd.csv', row('231207-1')));
    expect(counts(r)).toMatchObject({ ordersSeen: 1, imported: 1, rejected: [] });
    expect(orderIntake.calls).toEqual(['place 231207-1 paid 12800 [placed+paid]']);
    expect(store.orders.get('pinduoduo|231207-1')?.appliedSteps).toEqual(['placed', 'paid']);
    expect(counts(await run(file('again.csv', row('231207-1'))))).toMatchObject({ duplicates: 1 });
    expect(orderIntake.calls).toHaveLength(1);
  });

  it('a payment order-intake refuses: the order is placed alone and the refused payment is reported, as with two calls', async () => {
    const { store, orderIntake, run } = setup({ refusePayments: true });
    const r = await run(file('pdd.csv', row('231207-2')));
    expect(counts(r)).toMatchObject({ imported: 1, rejected: [] });
    expect(r.refusedChanges).toEqual([expect.objectContaining({ channelOrderId: '231207-2', step: 'paid', code: 'PAYMENT_AMOUNT_MISMATCH' })]);
    expect(orderIntake.calls).toEqual(['place 231207-2 paid 12800 [placed+paid]', 'place 231207-2 [placed]', 'pay o1 12800']);
    expect(store.orders.get('pinduoduo|231207-2')?.appliedSteps).toEqual(['placed']);
  });

  it('a run that placed it paid and stopped before recording so: the next run replays the one call (201), no second payment', async () => {
    const { first, store, again } = await importedThenRecordLost(row('231207-3'));
    await again(file('pdd.csv', row('231207-3')));
    expect(first.orderIntake.calls).toEqual(['place 231207-3 paid 12800 [placed+paid]']);
    expect(store.orders.get('pinduoduo|231207-3')?.appliedSteps).toEqual(['placed', 'paid']);
  });

  it('the same, with the export changed meanwhile (its one call now a reused key): placed alone finds the order paid; the payment counts as done and later steps still apply', async () => {
    const { first, store, again } = await importedThenRecordLost(row('231207-4'));
    const r = await again(file('pdd.csv', row('231207-4', { title: '明前龙井 250g 礼盒' })));
    expect(first.orderIntake.calls).toEqual(['place 231207-4 paid 12800 [placed+paid]', 'place 231207-4 [placed]']);
    expect(r.refusedChanges).toEqual([]);
    expect(store.orders.get('pinduoduo|231207-4')?.appliedSteps).toEqual(['placed', 'paid']);
    // A later platform status goes through: cancelled after payment -> refund requested and confirmed.
    first.orderIntake.calls.length = 0;
    await again(file('b.csv', row('231207-4', { status: '已取消', title: '明前龙井 250g 礼盒' })));
    expect(store.orders.get('pinduoduo|231207-4')?.appliedSteps).toEqual(['placed', 'paid', 'refundRequested', 'refunded']);
    expect(first.orderIntake.calls.some((c) => c.startsWith('pay'))).toBe(false);
  });
});
