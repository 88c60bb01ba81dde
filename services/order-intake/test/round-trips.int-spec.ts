import { PostgresEventStore } from '@flowline/eventstore';
import { installInMemoryTracing, metricsRegistry } from '@flowline/observability';
import { trace } from '@opentelemetry/api';
import { anOrderSubmission, createTestDatabase } from '@flowline/testing';
import { Pool, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderApi } from '../src/api/order-api';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { inOperation } from '../src/application/operation-scope';
import { OrderQueries } from '../src/application/order-queries';
import { PlaceOrderHandler } from '../src/application/place-order.handler';
import { ProcessManagerRunner } from '../src/application/process-manager.runner';
import { ReleaseOrderHandler } from '../src/application/release-order.handler';
import { countQueries, DB_COMMITS_METRIC, DB_QUERIES_METRIC } from '../src/infra/db-query-counter';
import { migrateOrderIntake } from '../src/infra/order-intake-schema';
import { PgIdempotencyStore } from '../src/infra/pg-idempotency-store';
import { PgOrderStore } from '../src/infra/pg-order-store';
import { defaultRules } from './support/order.fixtures';

// What one placed-and-paid order costs order-intake in database round trips and commits, counted
// by the service's own counter (flowline_db_operation_queries_total / flowline_db_operation_commits_total) against the
// real PostgreSQL: one commit per command (Idempotency-Key row, order change and outbox together),
// and the order's own consequences inside that commit (issue #10, docs/adr/0015-in-process-order-flow.md).

const SERVICE = 'order-intake-round-trips-test';

async function counted(metric: string, operation: string): Promise<number> {
  const m = metricsRegistry.getSingleMetric(metric);
  if (!m) return 0;
  const values = (await m.get()).values;
  return values.filter((v) => v.labels.service === SERVICE && v.labels.operation === operation).reduce((sum, v) => sum + v.value, 0);
}

describe('round trips and commits per command (real PostgreSQL, the service counter)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let eventStore: PostgresEventStore;
  let store: PgOrderStore;
  let api: OrderApi;
  let runner: ProcessManagerRunner;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_round_trips');
    pool = new Pool({ connectionString: db.url, max: 4 });
    countQueries(pool, SERVICE);
    await migrateOrderIntake(pool);
    eventStore = await PostgresEventStore.create({ pool, schema: 'eventstore' });
    store = new PgOrderStore(pool, eventStore);
    const changes = new ChangeOrderHandler(store, defaultRules);
    api = new OrderApi(new PlaceOrderHandler(store, defaultRules), changes, new ReleaseOrderHandler(store, changes, defaultRules), new OrderQueries(store), new PgIdempotencyStore(pool));
    runner = new ProcessManagerRunner(store, changes, defaultRules, () => new Date().toISOString());
  });

  afterAll(async () => {
    await eventStore?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await db?.drop();
  });

  it('place (with Idempotency-Key) and pay commit once each; the reservation from inventory commits once and reaches ready_to_ship', async () => {
    const submission = anOrderSubmission({ channelOrderId: `RT-${Date.now()}` });
    const placed = await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'rt-place' }, submission);
    expect(placed.status).toBe(201);
    const orderId = placed.order.orderId;
    const paid = await api.change(orderId, 'ConfirmPayment', { amount: placed.order.totals.grandTotal, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'rt-pay' }, { amount: placed.order.totals.grandTotal });
    expect(paid.order.stage).toBe('paid');

    // The process manager's consumer transaction for inventory's StockReserved (the consumer adds
    // its inbox row and the COMMIT around the handler).
    const client = await pool.connect();
    try {
      await inOperation('pm:StockReserved', async () => {
        await client.query('BEGIN');
        await runner.handle(
          { context: 'inventory', type: 'StockReserved', data: { orderId, reservationId: `RES-${orderId}`, allocations: [{ lineId: 'L1', sku: 'TEA-LJ-250', warehouseId: 'WH-HZ-01', quantity: 2 }] } },
          { eventId: `inv-${orderId}`, correlationId: orderId },
          client,
        );
        await client.query('COMMIT');
      });
    } finally {
      client.release();
    }
    expect((await store.load(orderId)).state.status).toBe('ready_to_ship');
    const outbox = await eventStore.readStream(`process-${orderId}`);
    expect(outbox.map((e) => e.type)).toEqual(['ReserveStock', 'StartFulfillment']);

    const figures = {
      PlaceOrder: { queries: await counted(DB_QUERIES_METRIC, 'PlaceOrder'), commits: await counted(DB_COMMITS_METRIC, 'PlaceOrder') },
      ConfirmPayment: { queries: await counted(DB_QUERIES_METRIC, 'ConfirmPayment'), commits: await counted(DB_COMMITS_METRIC, 'ConfirmPayment') },
      'pm:StockReserved': { queries: await counted(DB_QUERIES_METRIC, 'pm:StockReserved'), commits: await counted(DB_COMMITS_METRIC, 'pm:StockReserved') },
    };
    console.info(`order-intake round trips per placed-and-paid order: ${JSON.stringify(figures)}`);
    expect(figures.PlaceOrder.commits).toBe(1);
    expect(figures.ConfirmPayment.commits).toBe(1);
    // The writes nobody reads back (claim, read table row, Idempotency-Key row) ride with the
    // COMMIT (infra/commit-tail.ts), and so does the append where a conflict may fail the COMMIT
    // (a new order; a command run again on conflict): place = key lock and lookup, then append +
    // claim + row + key + COMMIT (was 6, then 3 with the append on its own); pay = key lock,
    // lookup, outbox stream lock and order read, then append + row + key + COMMIT (was 7, then 5
    // with the read, the outbox lock and the append on their own).
    expect(figures.PlaceOrder.queries).toBe(2);
    expect(figures.ConfirmPayment.queries).toBe(2);
    // The consumer's BEGIN, the order read with the outbox stream's lock, the order append with
    // the outbox, the read table row, COMMIT (was 6: the lock on its own).
    expect(figures['pm:StockReserved'].queries).toBe(5);
    expect(figures['pm:StockReserved'].commits).toBe(1);

    // A replay of the payment: the stored answer, nothing appended.
    const before = (await store.load(orderId)).revision;
    const again = await api.change(orderId, 'ConfirmPayment', { amount: placed.order.totals.grandTotal, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'rt-pay' }, { amount: placed.order.totals.grandTotal });
    expect(again.replayed).toBe(true);
    expect((await store.load(orderId)).revision).toBe(before);
  });

  it('the data scope is checked on the command\'s own load: a shop-limited hold costs what an unscoped one does, an out-of-scope one reads once and writes nothing', async () => {
    const placeIn = async (shopId: string, key: string) => {
      const submission = anOrderSubmission({ channelOrderId: `RT-S-${key}-${Date.now()}`, shopId });
      return (await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: `rt-scope-place-${key}` }, submission)).order.orderId;
    };
    const unscoped = await placeIn('jd-flagship', 'a');
    const scoped = await placeIn('jd-flagship', 'b');
    const foreign = await placeIn('taobao-xihu-tea-house', 'c');
    const jdOnly = (o: { shopId: string }) => o.shopId === 'jd-flagship';
    const hold = async (orderId: string, key: string, scope?: typeof jdOnly) => {
      const q0 = await counted(DB_QUERIES_METRIC, 'PlaceHold');
      const c0 = await counted(DB_COMMITS_METRIC, 'PlaceHold');
      const outcome = await api
        .change(orderId, 'PlaceHold', { reason: 'scope' }, { transport: 'rest', idempotencyKey: key, ...(scope ? { scope } : {}) }, { reason: 'scope' })
        .then(() => 'held', (e: { code?: string }) => e.code);
      return { outcome, queries: (await counted(DB_QUERIES_METRIC, 'PlaceHold')) - q0, commits: (await counted(DB_COMMITS_METRIC, 'PlaceHold')) - c0 };
    };
    const plain = await hold(unscoped, 'rt-scope-a');
    const inScope = await hold(scoped, 'rt-scope-b', jdOnly);
    const revisionBefore = (await store.load(foreign)).revision;
    const outOfScope = await hold(foreign, 'rt-scope-c', jdOnly);
    console.info(`order-intake PlaceHold round trips: unscoped ${JSON.stringify(plain)}, scoped ${JSON.stringify(inScope)}, out of scope ${JSON.stringify(outOfScope)}`);
    expect(plain.outcome).toBe('held');
    // Key lock, lookup and order read in one round trip, append, row + key + COMMIT (was 4). A
    // person's command sends its append on its own: a conflict must be answered 409 (not run again).
    expect(plain.queries).toBe(3);
    expect(plain.commits).toBe(1);
    expect(inScope).toEqual(plain);
    // Before, the controllers read the order once more (outside the command) to check the scope: one
    // stream read per command that is gone now.
    expect(outOfScope.outcome).toBe('ORDER_NOT_FOUND');
    // The key's round trip (with the read), then ROLLBACK.
    expect(outOfScope.queries).toBe(2);
    expect(outOfScope.commits).toBe(0);
    expect((await store.load(foreign)).revision).toBe(revisionBefore);
  });

  it('an append sent with the COMMIT that loses its race is run again once (pay); a person\'s command still gets 409 (hold)', async () => {
    const place = async (tag: string) => {
      const submission = anOrderSubmission({ channelOrderId: `RT-R-${tag}-${Date.now()}` });
      return (await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: `rt-race-place-${tag}` }, submission)).order;
    };
    /** Runs `request` while another transaction holds an uncommitted event at the order's next revision, then commits it. */
    const racing = async <T>(orderId: string, request: () => Promise<T>): Promise<T> => {
      const other = await pool.connect();
      try {
        await other.query('BEGIN');
        const { revision } = await store.load(orderId);
        const occurredAt = new Date().toISOString();
        await eventStore.appendToStreamsWithin(other, [
          {
            streamId: `order-${orderId}`,
            expectedRevision: revision,
            events: [{ eventId: `race-${orderId}`, type: 'OrderPiiRevealed', data: { fields: ['phone'], reason: 'race', revealedAt: occurredAt }, metadata: { correlationId: 'race', causationId: null, occurredAt } }],
          },
        ]);
        const pending = request().then(
          (r) => ({ ok: r }),
          (e: unknown) => ({ error: e }),
        );
        await new Promise((r) => setTimeout(r, 150)); // the request waits on the uncommitted revision
        await other.query('COMMIT');
        const outcome = await pending;
        if ('error' in outcome) throw outcome.error;
        return outcome.ok;
      } finally {
        other.release();
      }
    };

    const order = await place('pay');
    const due = order.totals.grandTotal;
    const q0 = await counted(DB_QUERIES_METRIC, 'ConfirmPayment');
    const c0 = await counted(DB_COMMITS_METRIC, 'ConfirmPayment');
    const paid = await racing(order.orderId, () => api.change(order.orderId, 'ConfirmPayment', { amount: due, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'rt-race-pay' }, { amount: due }));
    expect(paid.order.stage).toBe('paid');
    // It did lose at the COMMIT: two round trips, ROLLBACK, two round trips again (the counter
    // counts the COMMIT of the failed batch too: 2 sent, 1 took effect, one OrderPaid below).
    expect((await counted(DB_QUERIES_METRIC, 'ConfirmPayment')) - q0).toBe(5);
    expect((await counted(DB_COMMITS_METRIC, 'ConfirmPayment')) - c0).toBe(2);
    const events = await eventStore.readStream(`order-${order.orderId}`);
    expect(events.map((e) => e.type).filter((t) => t === 'OrderPaid' || t === 'OrderPiiRevealed')).toEqual(['OrderPiiRevealed', 'OrderPaid']);
    expect(paid.order.revision).toBe(events[events.length - 1].streamPosition);
    expect((await eventStore.readStream(`process-${order.orderId}`)).filter((e) => e.type === 'ReserveStock')).toHaveLength(1);

    const held = await place('hold');
    await expect(racing(held.orderId, () => api.change(held.orderId, 'PlaceHold', { reason: 'race' }, { transport: 'rest', idempotencyKey: 'rt-race-hold' }, { reason: 'race' }))).rejects.toMatchObject({
      code: 'ORDER_CONCURRENT_MODIFICATION',
    });
    expect((await eventStore.readStream(`order-${held.orderId}`)).map((e) => e.type)).not.toContain('OrderPutOnHold');
  });

  it("the request's trace covers its consequences: OrderPaid and the ReserveStock it led to carry the request's traceparent", async () => {
    installInMemoryTracing();
    const submission = anOrderSubmission({ channelOrderId: `RT-T-${Date.now()}` });
    const placed = await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'rt-trace-place' }, submission);
    const orderId = placed.order.orderId;
    const due = placed.order.totals.grandTotal;
    const traceId = await trace.getTracer('round-trips-test').startActiveSpan('POST /api/orders/:orderId/payments', async (span) => {
      await api.change(orderId, 'ConfirmPayment', { amount: due, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'rt-trace-pay' }, { amount: due });
      span.end();
      return span.spanContext().traceId;
    });
    const paid = (await eventStore.readStream(`order-${orderId}`)).find((e) => e.type === 'OrderPaid');
    const reserve = (await eventStore.readStream(`process-${orderId}`)).find((e) => e.type === 'ReserveStock');
    expect(paid?.metadata.traceparent).toContain(traceId);
    expect(reserve?.metadata.traceparent).toContain(traceId);
  });

  it('a replay confirms the statements its round trip prepared: the next command on that connection EXECUTEs them, it does not PREPARE them again', async () => {
    const submission = anOrderSubmission({ channelOrderId: `RT-P-${Date.now()}` });
    const placed = await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'rt-prep-place' }, submission);
    const orderId = placed.order.orderId;
    const due = placed.order.totals.grandTotal;
    const pay = (on: OrderApi) => on.change(orderId, 'ConfirmPayment', { amount: due, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'rt-prep-pay' }, { amount: due });
    await pay(api);

    // The replay and the next command on a pool of one connection that has prepared nothing yet,
    // every statement sent on it recorded.
    const one = new Pool({ connectionString: db.url, max: 1 });
    one.on('error', () => undefined);
    const sent: string[] = [];
    one.on('connect', (client: PoolClient) => {
      const query = client.query;
      client.query = function (this: PoolClient, ...args: unknown[]) {
        sent.push(typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text));
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as PoolClient['query'];
    });
    const oneEvents = await PostgresEventStore.create({ pool: one, schema: 'eventstore' });
    const oneStore = new PgOrderStore(one, oneEvents);
    const oneChanges = new ChangeOrderHandler(oneStore, defaultRules);
    const oneApi = new OrderApi(new PlaceOrderHandler(oneStore, defaultRules), oneChanges, new ReleaseOrderHandler(oneStore, oneChanges, defaultRules), new OrderQueries(oneStore), new PgIdempotencyStore(one));
    try {
      sent.length = 0;
      const again = await pay(oneApi);
      expect(again.replayed).toBe(true);
      // The key's round trip (lock, the key's lookup, and the order read with the outbox lock; the
      // lookup and the read prepared there: the connection is new), then COMMIT.
      const replay = sent.splice(0);
      expect(replay).toHaveLength(2);
      expect(replay[0].match(/PREPARE flowline_esb_/g)).toHaveLength(3);
      expect(replay[1]).toBe('COMMIT');

      const held = await oneApi.change(orderId, 'PlaceHold', { reason: 'after a replay' }, { transport: 'rest', idempotencyKey: 'rt-prep-hold' }, { reason: 'after a replay' });
      expect(held.replayed).toBe(false);
      const hold = sent.splice(0);
      // Round trips as for any hold: key + read, append, row + key + COMMIT.
      expect(hold).toHaveLength(3);
      // The lookup, read and lock the replay prepared are only executed (before: prepared again).
      expect(hold[0]).not.toContain('PREPARE');
      expect(hold[0].match(/EXECUTE flowline_esb_/g)).toHaveLength(3);
      // The append: one batch that plans it without scans and restores the transaction's settings,
      // prepared on the connection's first append (the event store's appendToStreamsWithin).
      expect(hold[1].match(/PREPARE flowline_esb_/g)).toHaveLength(1);
      expect(hold[1]).toContain("set_config('enable_seqscan', 'off', true)");
      // The read-table row and the key's row go with the COMMIT, prepared there on the connection's
      // first command (before: literal text, parsed and planned on every command).
      expect(hold[2].match(/PREPARE flowline_esb_/g)).toHaveLength(2);
      expect(hold[2]).toMatch(/INSERT INTO order_summaries/);
      expect(hold[2]).toMatch(/INSERT INTO idempotency_keys/);
      expect(hold[2]).toMatch(/COMMIT$/);

      // The next command on the connection only executes every one of them.
      const released = await oneApi.change(orderId, 'ReleaseHold', { reason: 'after a replay' }, { transport: 'rest', idempotencyKey: 'rt-prep-release' }, { reason: 'after a replay' });
      expect(released.replayed).toBe(false);
      const release = sent.splice(0);
      expect(release).toHaveLength(3);
      for (const statement of release) expect(statement).not.toContain('PREPARE');
      expect(release[1].match(/EXECUTE flowline_esb_/g)).toHaveLength(1);
      expect(release[2].match(/EXECUTE flowline_esb_/g)).toHaveLength(2);
      // On the server: each batch statement prepared once on this connection (before: 2 names each).
      const names = (await one.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name ^@ 'flowline_esb_'`)).rows.map((r) => r.name);
      expect(names).toHaveLength(6);
      expect(new Set(names.map((n) => n.replace(/_\d+$/, ''))).size).toBe(6);
    } finally {
      await oneEvents.close().catch(() => undefined);
      await one.end().catch(() => undefined);
    }
  });

  it('concurrent requests with one Idempotency-Key run once, on one connection each', async () => {
    const submission = anOrderSubmission({ channelOrderId: `RT-C-${Date.now()}` });
    const results = await Promise.all([1, 2, 3].map(() => api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'rt-concurrent' }, submission)));
    expect(new Set(results.map((r) => r.order.orderId)).size).toBe(1);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true, true]);
    await expect(api.placeOrder({ ...submission, shopId: 'other' }, undefined, { transport: 'rest', idempotencyKey: 'rt-concurrent' }, { ...submission, shopId: 'other' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('a channel order submitted again later under a new key gets the first order (200), even when this submission would be refused', async () => {
    const submission = anOrderSubmission({ channelOrderId: `RT-E-${Date.now()}` });
    const first = await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'rt-again-1' }, submission);
    expect(first.status).toBe(201);
    // The claim goes with the COMMIT on the first run: it fails there, the request runs again claiming first and finds the order.
    const again = await api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'rt-again-2' }, submission);
    expect(again).toMatchObject({ status: 200, replayed: false, order: { orderId: first.order.orderId } });
    // A grand total the server does not compute is refused for a new order, but the existing one is the answer here.
    const wrongTotal = first.order.totals.grandTotal + 1;
    const refusedIfNew = await api.placeOrder(submission, wrongTotal, { transport: 'rest', idempotencyKey: 'rt-again-3' }, { ...submission, grandTotal: wrongTotal });
    expect(refusedIfNew).toMatchObject({ status: 200, order: { orderId: first.order.orderId } });
    const fresh = anOrderSubmission({ channelOrderId: `RT-F-${Date.now()}` });
    await expect(api.placeOrder(fresh, wrongTotal, { transport: 'rest', idempotencyKey: 'rt-again-4' }, { ...fresh, grandTotal: wrongTotal })).rejects.toMatchObject({ code: 'ORDER_TOTAL_MISMATCH' });
    expect(await store.findByChannelOrder(fresh.channel, fresh.channelOrderId)).toBeNull();
  });

  it('concurrent submissions of one channel order under different keys: one order, the others get it (the losing transaction runs again)', async () => {
    const submission = anOrderSubmission({ channelOrderId: `RT-D-${Date.now()}` });
    const results = await Promise.all([1, 2, 3].map((i) => api.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: `rt-dup-${i}` }, submission)));
    expect(new Set(results.map((r) => r.order.orderId)).size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
  });
});
