import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { grpcClient, startServiceProcess, unary, type DynamicGrpcClient, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, tokenFor, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_SERVICE } from '../src/service';
import { eventually, orderEvents } from './fixtures/events';

/*
 * Analytics per shop (issue #16, data scoping): the real analytics process projects paid orders of
 * a JD shop (2) and a Taobao shop (3) from Kafka into its read model; a finance token limited to the
 * JD shop sees only JD figures in KPIs / reports / RFM / forecasts (REST and gRPC), and asking for
 * the Taobao shop explicitly answers 404 (existence not confirmed). An unscoped finance token sees both.
 */

const JD = 'jd-self-run';
const TAOBAO = 'taobao-xihu-tea-house';
const FROM = '2026-06-01T00:00:00+08:00';
const TO = '2026-07-01T00:00:00+08:00';
const SALES = (extra = '') => `/api/analytics/sales?by=shop&from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}${extra}`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let analytics: ServiceProcess;
let grpc: DynamicGrpcClient;
let jdToken: string;
let allToken: string;

const get = async (path: string, token: string) => {
  const res = await fetch(`${analytics.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

beforeAll(async () => {
  db = await createTestDatabase('analytics_shop_scope');
  const prefix = testTopicPrefix();
  analytics = await startServiceProcess({
    service: 'analytics',
    env: { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '1', ANALYTICS_CONSUMER_GROUP: `analytics-scope-${uniqueSuffix()}` },
    readyTimeoutMs: 150_000,
  });
  const order = (n: number, channel: string, shopId: string, customerId: string, quantity: number) =>
    orderEvents({
      orderId: `scope-${n}-${uniqueSuffix()}`,
      channel,
      shopId,
      customerId,
      province: '浙江省',
      placedAt: `2026-06-1${n}T02:00:00.000Z`,
      paidAt: `2026-06-1${n}T02:05:00.000Z`,
      lines: [{ sku: 'TEA-LJ-250', quantity, unitPrice: 12800 }],
    });
  const publisher = new EventPublisher({ kafka: createKafka({ brokers: kafkaBrokers(), clientId: 'analytics-shop-scope' }), topicPrefix: prefix });
  await publisher.connect();
  await publisher.publish([
    ...order(1, 'jd', JD, 'jd-c1', 1),
    ...order(2, 'jd', JD, 'jd-c2', 2),
    ...order(3, 'taobao', TAOBAO, 'tb-c1', 4),
    ...order(4, 'taobao', TAOBAO, 'tb-c2', 4),
    ...order(5, 'taobao', TAOBAO, 'tb-c3', 4),
  ]);
  await publisher.disconnect();
  [jdToken, allToken] = [await tokenFor('finance', { shops: [JD] }), await tokenFor('finance')];
  await eventually('five paid orders projected', async () => {
    const r = await get(SALES(), allToken);
    return r.status === 200 && r.json.total.orders === 5 ? r : undefined;
  }, 120_000, 500);
  grpc = grpcClient(analytics.grpcAddress, 'analytics/v1/analytics.proto', GRPC_SERVICE);
}, 300_000);

afterAll(async () => {
  grpc?.close();
  await analytics?.stop('SIGTERM');
  await db?.drop();
});

describe('analytics follows the shop scope of the token', () => {
  it('KPIs and reports of a JD-scoped user count only the JD shop; an unscoped user sees both shops', async () => {
    const all = await get(SALES(), allToken);
    expect(all.json.rows.map((r: { key: string }) => r.key).sort()).toEqual([JD, TAOBAO].sort());
    const jd = await get(SALES(), jdToken);
    expect(jd.status).toBe(200);
    expect(jd.json.total).toMatchObject({ orders: 2, units: 3, revenue: 3 * 12800 });
    expect(jd.json.rows.map((r: { key: string }) => r.key)).toEqual([JD]);
    expect(jd.json.customers).toBe(2);
    // By channel: the Taobao channel does not appear at all.
    const byChannel = await get(SALES().replace('by=shop', 'by=channel'), jdToken);
    expect(byChannel.json.rows.map((r: { key: string }) => r.key)).toEqual(['jd']);
    expect((await get(SALES(`&shopId=${JD}`), jdToken)).json.total.orders).toBe(2);
  });

  it('asking for the Taobao shop explicitly answers 404 to the JD-scoped user (200 to the unscoped one)', async () => {
    const refused = await get(SALES(`&shopId=${TAOBAO}`), jdToken);
    expect(refused.status).toBe(404);
    expect(refused.json).toMatchObject({ code: 'SHOP_NOT_FOUND' });
    expect((await get(SALES(`&shopId=${TAOBAO}`), allToken)).json.total.orders).toBe(3);
  });

  it('RFM and the demand forecast (and so purchase suggestions) are computed from the JD orders only', async () => {
    const rfm = await get(`/api/analytics/customers/rfm?from=${encodeURIComponent(FROM)}&asOf=${encodeURIComponent(TO)}`, jdToken);
    expect(rfm.json.customers.map((c: { customerKey: string }) => c.customerKey).sort()).toEqual(['jd:jd-c1', 'jd:jd-c2']);
    const forecastOf = async (token: string) => (await get('/api/analytics/forecast?sku=TEA-LJ-250&from=2026-06-20&horizon=7', token)).json.history.reduce((s: number, u: number) => s + u, 0);
    expect(await forecastOf(jdToken)).toBe(3);
    expect(await forecastOf(allToken)).toBe(15);
  });

  it('gRPC GetSales follows the same scope: JD only, the Taobao shop NOT_FOUND', async () => {
    const call = (token: string, request: Record<string, unknown>) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      return unary<{ total: { orders: number } }>(grpc, 'GetSales', { by: 'shop', from: FROM, to: TO, ...request }, 10_000, md);
    };
    expect((await call(jdToken, {})).total.orders).toBe(2);
    expect((await call(allToken, {})).total.orders).toBe(5);
    const error = (await call(jdToken, { shopId: TAOBAO }).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(GrpcStatus.NOT_FOUND);
  });
});
