import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { bootstrapService, grpcClient, PlatformModule, unary, type RunningService } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { createKafka, EventPublisher, type OutboundMessage } from '@flowline/messaging';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsModule } from '../src/analytics.module';
import type { ForecastView } from '../src/application/forecast-queries';
import type { DailyReconciliation, ImportResult } from '../src/application/reconciliation.service';
import type { SalesReport } from '../src/application/sales-queries';
import { purchaseSuggestion, type PurchaseSuggestion } from '../src/domain/purchase';
import { normalQuantile } from '../src/infra/mstl-model';
import type { AnalyticsChecksum } from '../src/infra/checksum';
import type { RebuildStatus } from '../src/infra/analytics-runtime';
import { SERVICE } from '../src/service';
import { analyticsMigrations } from '../src/infra/analytics-schema';
import { MigrationChecksumMismatch, runMigrations } from '@flowline/platform';
import { envelope, eventually, orderEvents, shipmentPacked, stockLevel } from './fixtures/events';

/*
 * The analytics service in-process (Fastify, gRPC) against the real Kafka and PostgreSQL: facts
 * projected from published events, sales figures equal to a hand computation, and a rebuild from
 * the topics whose checksum equals the live one (compared, then swapped in).
 */

const prefix = testTopicPrefix();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: RunningService;
let publisher: EventPublisher;

// Three paid orders and one unpaid; times in UTC, figures bucketed by placing time in Asia/Shanghai (UTC+8).
const FIXTURE: OutboundMessage[] = [
  // Mon 2026-06-01 10:00 local
  ...orderEvents({ orderId: 'o1', channel: 'taobao', shopId: 'tb-1', customerId: 'c1', province: '浙江省', placedAt: '2026-06-01T01:55:00.000Z', paidAt: '2026-06-01T02:00:00.000Z', warehouseId: 'WH-HZ', lines: [{ sku: 'SKU-A', quantity: 2, unitPrice: 1000 }, { sku: 'SKU-B', quantity: 1, unitPrice: 3000 }] }),
  // Mon 2026-06-01 21:30 local
  ...orderEvents({ orderId: 'o2', channel: 'jd', shopId: 'jd-1', customerId: 'c2', province: '广东省', placedAt: '2026-06-01T13:29:00.000Z', paidAt: '2026-06-01T13:30:00.000Z', warehouseId: 'WH-GZ', lines: [{ sku: 'SKU-A', quantity: 1, unitPrice: 1000 }] }),
  // Wed 2026-06-03 00:30 local (still Tuesday in UTC); half refunded
  ...orderEvents({ orderId: 'o3', channel: 'taobao', shopId: 'tb-1', customerId: 'c1', province: '浙江省', placedAt: '2026-06-02T16:29:00.000Z', paidAt: '2026-06-02T16:30:00.000Z', refund: { amount: 3000, at: '2026-06-04T01:00:00.000Z' }, lines: [{ sku: 'SKU-B', quantity: 2, unitPrice: 3000 }] }),
  // never paid: not a sale
  ...orderEvents({ orderId: 'o4', channel: 'pinduoduo', shopId: 'pdd-1', customerId: 'c3', province: '江苏省', placedAt: '2026-06-02T03:00:00.000Z', lines: [{ sku: 'SKU-A', quantity: 5, unitPrice: 1000 }] }),
  stockLevel('SKU-A', 'WH-HZ', 100, 2, '2026-06-01T02:00:01.000Z', 0),
  stockLevel('SKU-A', 'WH-HZ', 98, 0, '2026-06-01T05:00:00.000Z', 1),
  shipmentPacked('o1', 'WH-HZ', '2026-06-01T05:00:00.000Z'),
];
const RANGE = 'from=2026-06-01T00:00:00%2B08:00&to=2026-06-08T00:00:00%2B08:00';

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${svc.httpUrl}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function sales(by: string): Promise<SalesReport> {
  const r = await get<SalesReport>(`/api/analytics/sales?by=${by}&${RANGE}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function rebuild(body: Record<string, unknown>): Promise<RebuildStatus> {
  const res = await fetch(`${svc.httpUrl}/api/analytics/admin/rebuild`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  const started = (await res.json()) as RebuildStatus;
  let status = started;
  await expect
    .poll(async () => (status = (await get<RebuildStatus>(`/api/analytics/admin/rebuild/${started.id}`)).body).phase, { timeout: 90_000, interval: 250 })
    .toMatch(/^(done|failed)$/);
  expect(status.error).toBeNull();
  return status;
}

beforeAll(async () => {
  db = await createTestDatabase('analytics_sales');
  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'analytics', database: { url: db.url }, kafka: { brokers: kafkaBrokers() } }),
      AnalyticsModule.forRoot({ config: { topicPrefix: prefix, consumerGroup: `analytics-test-${uniqueSuffix()}`, topicPartitions: 3 } }),
    ],
  })
  class TestAppModule {}
  svc = await bootstrapService({ name: 'analytics', module: TestAppModule, httpPort: 0, grpcPort: 0, grpcPackages: SERVICE.grpcPackages, host: '127.0.0.1', shutdownHooks: false });
  publisher = new EventPublisher({ kafka: createKafka({ brokers: kafkaBrokers(), clientId: 'analytics-test' }), topicPrefix: prefix });
  await publisher.connect();
  // Every event twice: the relays publish at least once.
  await publisher.publish(FIXTURE);
  await publisher.publish(FIXTURE);
  await eventually('the fixture projected', async () => {
    const t = (await get<AnalyticsChecksum>('/api/analytics/admin/checksum')).body.tables;
    return t.order_fact.rows === 4 && t.refund.rows === 1 && t.shipment.rows === 1 && t.allocation.rows === 3 ? t : undefined;
  });
}, 120_000);

afterAll(async () => {
  await publisher?.disconnect();
  await svc?.close();
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'analytics-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  await db?.drop();
});

const row = (key: string, orders: number, units: number, revenue: number, refunds: number) => ({ key, orders, units, revenue, refunds, net: revenue - refunds, aov: Math.round(revenue / orders) });

describe('sales figures from the projected facts (hand-computed, duplicates applied once)', () => {
  it('by day in the seller zone: paid orders only, refunds on the order, AOV, repeat-purchase rate', async () => {
    const r = await sales('day');
    expect(r.rows).toEqual([row('2026-06-01', 2, 4, 6000, 0), row('2026-06-03', 1, 2, 6000, 3000)]);
    expect(r.total).toEqual(row('total', 3, 6, 12000, 3000));
    expect(r.total.aov).toBe(4000);
    expect({ customers: r.customers, repeat: r.repeatCustomers, rate: r.repeatPurchaseRate }).toEqual({ customers: 2, repeat: 1, rate: 0.5 });
  });

  it('by hour, weekday, channel, shop, province and SKU (refunds prorated to lines by value)', async () => {
    expect((await sales('hour')).rows.map((x) => [x.key, x.orders])).toEqual([['00', 1], ['09', 1], ['21', 1]]);
    expect((await sales('weekday')).rows.map((x) => [x.key, x.orders, x.revenue])).toEqual([['1', 2, 6000], ['3', 1, 6000]]);
    expect((await sales('channel')).rows).toEqual([row('jd', 1, 1, 1000, 0), row('taobao', 2, 5, 11000, 3000)]);
    expect((await sales('shop')).rows.map((x) => x.key)).toEqual(['jd-1', 'tb-1']);
    expect((await sales('province')).rows).toEqual([row('广东省', 1, 1, 1000, 0), row('浙江省', 2, 5, 11000, 3000)]);
    expect((await sales('sku')).rows).toEqual([row('SKU-A', 2, 3, 3000, 0), row('SKU-B', 2, 3, 9000, 3000)]);
  });

  it('fills day, hour and weekday buckets without sales with zero rows when asked (chart axes)', async () => {
    const days = (await get<SalesReport>(`/api/analytics/sales?by=day&fill=true&${RANGE}`)).body.rows;
    expect(days.map((d) => [d.key, d.orders])).toEqual([
      ['2026-06-01', 2], ['2026-06-02', 0], ['2026-06-03', 1], ['2026-06-04', 0], ['2026-06-05', 0], ['2026-06-06', 0], ['2026-06-07', 0],
    ]);
    expect(days[1]).toEqual({ key: '2026-06-02', orders: 0, units: 0, revenue: 0, refunds: 0, net: 0, aov: 0 });
    expect((await get<SalesReport>(`/api/analytics/sales?by=hour&fill=true&${RANGE}`)).body.rows).toHaveLength(24);
    expect((await get<SalesReport>(`/api/analytics/sales?by=weekday&fill=true&${RANGE}`)).body.rows.map((r) => r.orders)).toEqual([2, 0, 1, 0, 0, 0, 0]);
  });

  it('filters by channel and refuses a bad dimension or range with 400 naming the field', async () => {
    const tb = (await get<SalesReport>(`/api/analytics/sales?by=day&channel=taobao&${RANGE}`)).body;
    expect(tb.total).toEqual(row('total', 2, 5, 11000, 3000));
    const bad = await get<{ message: unknown }>(`/api/analytics/sales?by=colour&from=yesterday&to=2026-06-08T00:00:00Z`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/by/);
    expect(JSON.stringify(bad.body)).toMatch(/from/);
  });

  it('serves the same figures over gRPC', async () => {
    const client = grpcClient(svc.grpcAddress ?? '', SERVICE.grpcPackages[0].protoPath, 'flowline.analytics.v1.AnalyticsService');
    const r = await unary<{ total: { revenue: number; refunds: number; net: number }; rows: { key: string }[]; repeatPurchaseRate: number }>(client, 'GetSales', {
      by: 'channel',
      from: '2026-06-01T00:00:00+08:00',
      to: '2026-06-08T00:00:00+08:00',
    });
    expect(r.total).toMatchObject({ revenue: 12000, refunds: 3000, net: 9000 });
    expect(r.rows.map((x) => x.key)).toEqual(['jd', 'taobao']);
    expect(r.repeatPurchaseRate).toBe(0.5);
    await expect(unary(client, 'GetSales', { by: 'colour', from: 'x', to: 'y' })).rejects.toMatchObject({ code: 3 });
    client.close();
  });
});

describe('customers and baskets from the facts', () => {
  it('RFM per channel customer id and SKU pairs over the paid orders', async () => {
    const r = (await get<{ customers: { customerKey: string; frequency: number; monetary: number; recencyDays: number }[] }>(`/api/analytics/customers/rfm?from=2026-05-01T00:00:00Z&asOf=2026-06-11T00:00:00Z`)).body;
    expect(r.customers.map((c) => [c.customerKey, c.frequency, c.monetary, c.recencyDays])).toEqual([['jd:c2', 1, 1000, 9], ['taobao:c1', 2, 8000, 8]]);
    const p = (await get<{ baskets: number; pairs: { a: string; b: string; together: number; lift: number }[] }>(`/api/analytics/sku-pairs?minCount=1&${RANGE}`)).body;
    // baskets {A,B}, {A}, {B}: lift(A,B) = 1 x 3 / (2 x 2)
    expect(p).toEqual({ baskets: 3, pairs: [expect.objectContaining({ a: 'SKU-A', b: 'SKU-B', together: 1, lift: 0.75 })] });
    expect((await get(`/api/analytics/sku-pairs?from=x&to=y`)).status).toBe(400);
    const client = grpcClient(svc.grpcAddress ?? '', SERVICE.grpcPackages[0].protoPath, 'flowline.analytics.v1.AnalyticsService');
    const gr = await unary<{ customers: { customerKey: string; frequency: number }[] }>(client, 'GetRfm', { from: '2026-05-01T00:00:00Z', asOf: '2026-06-11T00:00:00Z' });
    expect(gr.customers.map((c) => [c.customerKey, c.frequency])).toEqual([['jd:c2', 1], ['taobao:c1', 2]]);
    const gs = await unary<{ baskets: number; pairs: { lift: number }[] }>(client, 'GetSkuPairs', { from: '2026-06-01T00:00:00+08:00', to: '2026-06-08T00:00:00+08:00', minCount: 1 });
    expect([gs.baskets, gs.pairs.map((x) => x.lift)]).toEqual([3, [0.75]]);
    client.close();
  });
});

describe('order changes', () => {
  it('an approved OrderChanged replaces the order\'s lines and totals in the figures', async () => {
    const placed = orderEvents({ orderId: 'o-ch', channel: 'web', shopId: 'web-1', customerId: 'w1', province: '上海市', placedAt: '2026-07-01T02:00:00.000Z', paidAt: '2026-07-01T02:01:00.000Z', lines: [{ sku: 'SKU-A', quantity: 1, unitPrice: 1000 }] });
    const changed: OutboundMessage = {
      topic: placed[0].topic,
      key: 'o-ch',
      envelope: envelope(
        'OrderChanged',
        {
          orderId: 'o-ch',
          approvalId: 'ap-1',
          changeRequestId: 'cr-1',
          lines: [{ lineId: '1', sku: 'SKU-A', title: 'A', quantity: 3, unitPrice: 1000, lineDiscount: 0 }, { lineId: '2', sku: 'SKU-C', title: 'C', quantity: 1, unitPrice: 500, lineDiscount: 0 }],
          totals: { itemsTotal: 3500, shippingFee: 0, orderDiscount: 0, grandTotal: 3500, currency: 'CNY' },
          changes: { added: ['2'], removed: [], quantities: [{ lineId: '1', before: 1, after: 3 }] },
          priceDifference: 2500,
        },
        '2026-07-01T03:00:00.000Z',
        'order-o-ch',
        2,
      ),
    };
    await publisher.publish([...placed, changed]);
    const july = 'from=2026-07-01T00:00:00%2B08:00&to=2026-07-02T00:00:00%2B08:00';
    const bySku = await eventually('the change projected', async () => {
      const r = (await get<SalesReport>(`/api/analytics/sales?by=sku&${july}`)).body;
      return r.rows.length === 2 ? r : undefined;
    });
    expect(bySku.rows.map((x) => [x.key, x.units, x.revenue])).toEqual([['SKU-A', 3, 3000], ['SKU-C', 1, 500]]);
  });
});

describe('forecast and purchase suggestions from the facts', () => {
  it('builds the SKU x warehouse daily series in the seller zone, backtests it and suggests a purchase from the projected stock', async () => {
    const f = (await get<ForecastView>('/api/analytics/forecast?sku=SKU-A&warehouseId=WH-HZ&from=2026-06-08')).body;
    expect(f.history).toHaveLength(182);
    expect(f.history[f.historyDays.indexOf('2026-06-01')]).toBe(2);
    expect(f.history.reduce((s, x) => s + x, 0)).toBe(2);
    // Seasonal naive over the last 4 weeks: 27 days 0 = 0, and 2026-06-01 (actual 2, forecast 0) = 200.
    expect(f.baseline.backtest.smape).toBeCloseTo(200 / 28, 9);
    expect(f.days[0]).toBe('2026-06-08');
    expect(f.chosen).toBe(f.model.backtest && f.model.backtest.smape < f.baseline.backtest.smape ? 'model' : 'baseline');

    const res = await fetch(`${svc.httpUrl}/api/analytics/purchase-suggestions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ warehouseId: 'WH-HZ', from: '2026-06-08', items: [{ sku: 'SKU-A', leadTimeDays: 7, packSize: 10, inbound: 5 }] }),
    });
    expect(res.status).toBe(200);
    const [s] = ((await res.json()) as { suggestions: PurchaseSuggestion[] }).suggestions;
    const used = f.chosen === 'model' && f.model.backtest ? f.model.backtest : f.baseline.backtest;
    expect(s).toMatchObject(purchaseSuggestion({ sku: 'SKU-A', warehouseId: 'WH-HZ', forecast: f.point, dailyError: used.rmse, leadTimeDays: 7, serviceLevel: 0.95, available: 98, inbound: 5, packSize: 10 }, normalQuantile));

    const client = grpcClient(svc.grpcAddress ?? '', SERVICE.grpcPackages[0].protoPath, 'flowline.analytics.v1.AnalyticsService');
    const gf = await unary<{ days: string[]; point: number[]; chosen: string; baselineBacktest: { smape: number } }>(client, 'GetForecast', { sku: 'SKU-A', warehouseId: 'WH-HZ', from: '2026-06-08' });
    expect(gf).toMatchObject({ days: f.days, point: f.point, chosen: f.chosen });
    expect(gf.baselineBacktest.smape).toBeCloseTo(200 / 28, 9);
    const gp = await unary<{ suggestions: { suggestedQuantity: number }[] }>(client, 'GetPurchaseSuggestions', { warehouseId: 'WH-HZ', from: '2026-06-08', items: [{ sku: 'SKU-A', leadTimeDays: 7, packSize: 10, inbound: 5 }] });
    expect(gp.suggestions[0].suggestedQuantity).toBe(s.suggestedQuantity);
    await expect(unary(client, 'GetForecast', { sku: '', from: 'x' })).rejects.toMatchObject({ code: 3 });
    client.close();

    // The warehouse's whole list: SKU-A (stock level, allocations) and SKU-B (allocated from WH-HZ to o1).
    const list = (await get<{ suggestions: PurchaseSuggestion[] }>('/api/analytics/purchase-suggestions?warehouseId=WH-HZ&from=2026-06-08&leadTimeDays=7&packSize=10')).body;
    expect(list.suggestions.map((x) => x.sku).sort()).toEqual(['SKU-A', 'SKU-B']);
    expect(list.suggestions.find((x) => x.sku === 'SKU-A')).toMatchObject({ available: 98, inbound: 0, packSize: 10 });

    const bad = await fetch(`${svc.httpUrl}/api/analytics/purchase-suggestions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ warehouseId: 'WH-HZ', from: 'soon', items: [{ sku: 'SKU-A', leadTimeDays: 0, packSize: 10 }] }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/from[\s\S]*leadTimeDays|leadTimeDays[\s\S]*from/);
  });
});

describe('operations', () => {
  it('reports the live projector\'s lag per topic, zero once it caught up', async () => {
    const lag = await eventually('the projector to catch up', async () => {
      const l = (await get<{ topic: string; messages: number }[]>('/api/analytics/admin/lag')).body;
      return l.every((t) => t.messages === 0) ? l : undefined;
    });
    expect(lag.map((t) => t.topic)).toEqual(['orders.events.v1', 'inventory.events.v1', 'inventory.stock.v1', 'fulfillment.events.v1']);
  });
});

describe('rebuilt from Kafka == live', () => {
  it('replays the topics into fresh tables whose checksum equals the live one, then swaps them in unchanged', async () => {
    const live = (await get<AnalyticsChecksum>('/api/analytics/admin/checksum')).body;
    const compared = await rebuild({});
    expect(compared.report).toMatchObject({ equal: true, swapped: false, truncated: false });
    expect(compared.report?.rebuilt.checksum).toBe(live.checksum);
    expect(compared.report?.rebuilt.tables).toEqual(live.tables);

    const swapped = await rebuild({ swap: true });
    expect(swapped.report).toMatchObject({ swapped: true });
    const after = (await get<AnalyticsChecksum>('/api/analytics/admin/checksum')).body;
    expect(after.checksum).toBe(live.checksum);
    expect((await sales('day')).total).toEqual(row('total', 3, 6, 12000, 3000));

    // The live consumer goes on after the swap: a new paid order lands in the swapped-in tables.
    await publisher.publish(orderEvents({ orderId: 'o5', channel: 'douyin', shopId: 'dy-1', customerId: 'c9', province: '四川省', placedAt: '2026-06-05T02:00:00.000Z', paidAt: '2026-06-05T02:01:00.000Z', lines: [{ sku: 'SKU-C', quantity: 1, unitPrice: 500 }] }));
    await expect.poll(async () => (await sales('channel')).total.revenue, { timeout: 30_000, interval: 250 }).toBe(12500);
  }, 200_000);
});

describe('daily settlement reconciliation', () => {
  // Five orders paid on 2026-06-10 (Asia/Shanghai), matched against the Alipay bill fixture (GB18030)
  // that seeds exactly three discrepancies: ...002 never settled, ...003 fee 5.00 instead of 0.60,
  // ...004 refunded by us (50.00) without a refund row.
  const paid = (n: number, channel: string, price: number, refund?: number) =>
    orderEvents({
      orderId: `r${n}`,
      channel,
      channelOrderId: `410000000000000000${n}`,
      shopId: 'tb-1',
      customerId: `rc${n}`,
      province: '浙江省',
      placedAt: `2026-06-10T0${n}:00:00.000Z`,
      paidAt: `2026-06-10T0${n}:01:00.000Z`,
      refund: refund ? { amount: refund, at: `2026-06-10T0${n}:30:00.000Z` } : undefined,
      lines: [{ sku: 'TEA', quantity: 1, unitPrice: price }],
    });
  const upload = async (name: string): Promise<{ status: number; body: ImportResult }> => {
    const res = await fetch(`${svc.httpUrl}/api/analytics/settlements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'alipay', fileName: name, contentBase64: readFileSync(join(__dirname, 'fixtures/settlements', name)).toString('base64') }),
    });
    return { status: res.status, body: (await res.json()) as ImportResult };
  };

  it('a settlement file with 3 seeded discrepancies reports exactly those 3, with the KPI and CSV/XLSX downloads', async () => {
    await publisher.publish([...paid(1, 'taobao', 12800), ...paid(2, 'taobao', 9900), ...paid(3, 'tmall', 10000), ...paid(4, 'taobao', 5000, 5000), ...paid(5, 'taobao', 8000, 2000)]);
    await eventually('the five orders projected', async () => {
      const r = (await get<DailyReconciliation>('/api/analytics/reconciliation/daily?platform=alipay&day=2026-06-10')).body;
      return r.ordersTotal === 5 && r.orders.find((o) => o.orderId === 'r5')?.refunded === 2000 && r.orders.find((o) => o.orderId === 'r4')?.refunded === 5000 ? r : undefined;
    });
    const first = await upload('alipay-2026-06-10.csv');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ platform: 'alipay', encoding: 'gb18030', entries: 9, skippedRows: 1, imported: true });
    expect((await upload('alipay-2026-06-10.csv')).body.imported).toBe(false);

    const r = (await get<DailyReconciliation>('/api/analytics/reconciliation/daily?platform=alipay&day=2026-06-10')).body;
    expect(r.discrepancies).toEqual([
      { code: 'missing_settlement', orderId: 'r2', channelOrderId: '4100000000000000002', expected: 9900, actual: 0, difference: -9900 },
      { code: 'fee_mismatch', orderId: 'r3', channelOrderId: '4100000000000000003', expected: 60, actual: 500, difference: 440 },
      { code: 'refund_not_settled', orderId: 'r4', channelOrderId: '4100000000000000004', expected: 5000, actual: 0, difference: -5000 },
    ]);
    expect({ reconciled: r.ordersReconciled, total: r.ordersTotal }).toEqual({ reconciled: 2, total: 5 });
    const kpi = (await get<{ days: { day: string; ordersTotal: number; ordersReconciled: number }[]; reconciledRate: number }>('/api/analytics/reconciliation/kpi?platform=alipay&from=2026-06-09&to=2026-06-12')).body;
    expect(kpi.days.map((d) => [d.day, d.ordersTotal, d.ordersReconciled])).toEqual([['2026-06-09', 0, 0], ['2026-06-10', 5, 2], ['2026-06-11', 0, 0]]);
    expect(kpi.reconciledRate).toBe(0.4);

    const csvRes = await fetch(`${svc.httpUrl}/api/analytics/reconciliation/daily?platform=alipay&day=2026-06-10&format=csv`);
    expect(csvRes.headers.get('content-disposition')).toContain('reconciliation-alipay-2026-06-10.csv');
    const rows = parse(await csvRes.text(), { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((x) => [x.order_id, x.status, x.issues])).toEqual([
      ['r1', 'reconciled', ''], ['r2', 'discrepancy', 'missing_settlement'], ['r3', 'discrepancy', 'fee_mismatch'], ['r4', 'discrepancy', 'refund_not_settled'], ['r5', 'reconciled', ''],
    ]);

    const xlsxRes = await fetch(`${svc.httpUrl}/api/analytics/reconciliation/daily?platform=alipay&day=2026-06-10&format=xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await xlsxRes.arrayBuffer());
    const sheet = wb.getWorksheet('discrepancies');
    expect(sheet?.getColumn(1).values.slice(2)).toEqual(['missing_settlement', 'fee_mismatch', 'refund_not_settled']);
    expect(wb.getWorksheet('summary')?.getRow(4).values).toEqual([undefined, 'orders reconciled', 2]);

    const client = grpcClient(svc.grpcAddress ?? '', SERVICE.grpcPackages[0].protoPath, 'flowline.analytics.v1.AnalyticsService');
    const g = await unary<{ discrepancies: { code: string; orderId: string }[]; ordersReconciled: number; ordersTotal: number }>(client, 'GetDailyReconciliation', { platform: 'alipay', day: '2026-06-10' });
    expect(g.discrepancies.map((d) => [d.code, d.orderId])).toEqual([['missing_settlement', 'r2'], ['fee_mismatch', 'r3'], ['refund_not_settled', 'r4']]);
    expect([g.ordersReconciled, g.ordersTotal]).toEqual([2, 5]);
    await expect(unary(client, 'GetDailyReconciliation', { platform: 'paypal', day: '2026-06-10' })).rejects.toMatchObject({ code: 3 });
    client.close();

    const bad = await fetch(`${svc.httpUrl}/api/analytics/settlements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ platform: 'jd', fileName: 'x.csv', contentBase64: Buffer.from('a,b\n1,2\n').toString('base64') }) });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('订单编号');
  });
});

describe('schema as versioned migrations (libs/platform runMigrations)', () => {
  it('records the fact and import schemas as migrations, and a booted database refuses an edited released migration', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const rows = (await c.query<{ scope: string; version: number }>(`SELECT scope, version FROM flowline_schema_migrations WHERE scope LIKE 'analytics%' ORDER BY scope, version`)).rows;
      expect(rows).toEqual([
        { scope: 'analytics', version: 1 },
        // stock_level.version (ADR 0023)
        { scope: 'analytics', version: 2 },
        { scope: 'analytics_import', version: 1 },
      ]);
      const edited = analyticsMigrations().map((m) => ({ ...m, statements: [...m.statements, 'SELECT 1'] }));
      const transactions = {
        run: async <T>(fn: (tx: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }) => Promise<T>): Promise<T> => {
          await c.query('BEGIN');
          try {
            const out = await fn(c);
            await c.query('COMMIT');
            return out;
          } catch (e) {
            await c.query('ROLLBACK');
            throw e;
          }
        },
      };
      await expect(runMigrations(transactions, 'analytics', edited)).rejects.toBeInstanceOf(MigrationChecksumMismatch);
    } finally {
      await c.end();
    }
  });
});
