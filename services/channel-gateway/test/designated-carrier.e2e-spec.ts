import { grpcClient, startServiceProcess, unary, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { createKafka } from '@flowline/messaging';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePlatforms, type FakePlatforms } from './fakes/platforms';

/*
 * Issue #12, from a platform export to the warehouse: a JD export row whose 配送方式 designates a
 * carrier and whose 商品重量 gives the product weight is imported by channel-gateway, placed and paid
 * in order-intake, reserved by inventory, and reaches fulfillment's carrier choice as designated with
 * the export's weight on the parcel (REST and gRPC). The same for a JD order pulled by API
 * (jingdong.pop.order.search against the fake JD, idSopShipmenttype 68 京配). Each service its own
 * process on its own database, real Kafka (one topic prefix) and PostgreSQL.
 */

const prefix = testTopicPrefix();
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const procs: Record<string, ServiceProcess> = {};
let gatewayDbUrl = '';
let platforms: FakePlatforms;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read loosely; the assertions check their shape
type Json = Record<string, any>;

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json', 'idempotency-key': `k-${uniqueSuffix()}` } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000, last?: () => unknown): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last?.() ?? null).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function orderIdOf(channelOrderId: string): Promise<string> {
  const c = new Client({ connectionString: gatewayDbUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ order_id: string }>("SELECT order_id FROM channel_orders WHERE channel = 'jd' AND channel_order_id = $1", [channelOrderId]);
    if (!rows[0]) throw new Error(`no channel order jd ${channelOrderId}`);
    return rows[0].order_id;
  } finally {
    await c.end();
  }
}

async function fulfillmentOf(orderId: string): Promise<Json> {
  let seen: unknown;
  return eventually(
    `fulfillment of ${orderId}`,
    async () => {
      const r = await call(procs.fulfillment.httpUrl, 'GET', `/api/fulfillment/orders/${orderId}`);
      seen = { fulfillment: r.json, order: (await call(procs['order-intake'].httpUrl, 'GET', `/api/orders/${orderId}`)).json.stage };
      return r.status === 200 && r.json.carrierChoice && r.json.shipments?.length ? r.json : undefined;
    },
    180_000,
    () => seen,
  );
}

const HEADER = '订单号,订单状态,下单时间,付款确认时间,店铺名称,下单帐号,客户姓名,联系电话,客户地址,应付金额,运费金额,商品ID,商家SKU,商品名称,订购数量,京东价,配送方式,商品重量';
const row = (id: string, buyer: string, sku: string, qty: number, price: string, paid: string, delivery: string, weightKg: string) =>
  `${id},等待出库,2026-12-01 10:00:00,2026-12-01 10:01:00,jd-e2e-shop,${buyer},张三,13800001111,北京 北京市 朝阳区 建国路88号,${paid},0.00,${sku}-ID,${sku},${sku} 商品,${qty},${price},${delivery},${weightKg}`;

beforeAll(async () => {
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
  const start = async (service: string, env: Record<string, string>) => {
    const db = await createTestDatabase(`e2e_${service.replace(/-/g, '_')}`);
    dbs.push(db);
    if (service === 'channel-gateway') gatewayDbUrl = db.url;
    procs[service] = await startServiceProcess({ service, env: { ...common, ...env, DATABASE_URL: db.url }, readyTimeoutMs: 180_000 });
  };
  await Promise.all([
    start('inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }),
    start('order-intake', {}),
    start('fulfillment', { FULFILLMENT_SIM_CARRIER_STEP_MS: '0' }),
  ]);
  platforms = await startFakePlatforms();
  const shops = [{ platform: 'jd', shopId: 'jd-api-shop', ...platforms.creds.jd, accessToken: 'jd-token', baseUrl: platforms.url }];
  await start('channel-gateway', {
    ORDER_INTAKE_URL: procs['order-intake'].httpUrl,
    CHANNEL_POLL_INTERVAL_MS: '0',
    CHANNEL_SHOPS: JSON.stringify(shops),
    CHANNEL_PULL_LOOKBACK_MS: String(2 * 3_600_000),
  });
  const inv = procs.inventory.httpUrl;
  expect((await call(inv, 'PUT', '/api/stock/warehouses/WH-BJ-01', { name: '北京仓', priority: 1 })).status).toBe(200);
  for (const sku of ['TEA-JD-SF', 'TEA-JD-JD']) {
    expect((await call(inv, 'PUT', `/api/stock/skus/${sku}`, { name: sku })).status).toBe(200);
    const received = await call(inv, 'POST', '/api/stock/receipts', { sku, warehouseId: 'WH-BJ-01', quantity: 100, reference: 'PO-E2E' });
    expect(received.status, JSON.stringify(received.json)).toBe(201);
  }
}, 400_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
  await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
  await platforms?.close();
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'designated-carrier-e2e-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  for (const db of dbs) await db.drop();
}, 120_000);

describe('JD export -> fulfillment: designated carrier and export weights (#12)', () => {
  it('配送方式 顺丰速运 reaches the carrier choice as designated SF (not the channel default JD); 商品重量 0.26 kg x 3 is the parcel weight; 京东配送 -> JD', async () => {
    const sfId = `3000${Date.now()}`.slice(0, 14);
    const jdId = `${sfId}9`;
    const csv = [HEADER, row(sfId, `b-${uniqueSuffix()}`, 'TEA-JD-SF', 3, '100.00', '300.00', '顺丰速运', '0.26'), row(jdId, `b-${uniqueSuffix()}`, 'TEA-JD-JD', 1, '50.00', '50.00', '京东配送', '1.5')].join('\n');
    const imported = await call(procs['channel-gateway'].httpUrl, 'POST', '/api/imports', { channel: 'jd', file: { name: 'jd-designated.csv', contentBase64: Buffer.from(csv, 'utf8').toString('base64') } });
    expect(imported.status, JSON.stringify(imported.json)).toBe(201);
    expect(imported.json).toMatchObject({ ordersSeen: 2, imported: 2, rejected: [] });

    const sf = await fulfillmentOf(await orderIdOf(sfId));
    expect(sf.carrierChoice).toMatchObject({ carrier: 'SF', ruleId: 'platform-designated', designated: true, weightGrams: 780 });
    expect(sf.shipments).toHaveLength(1);
    expect(sf.shipments[0]).toMatchObject({ warehouseId: 'WH-BJ-01', weightGrams: 780, lines: [expect.objectContaining({ sku: 'TEA-JD-SF', quantity: 3 })] });

    const jdOrderId = await orderIdOf(jdId);
    const jd = await fulfillmentOf(jdOrderId);
    expect(jd.carrierChoice).toMatchObject({ carrier: 'JD', ruleId: 'platform-designated', designated: true, weightGrams: 1500 });
    expect(jd.shipments[0].weightGrams).toBe(1500);

    // The same over gRPC (proto fulfillment/v1 weight + carrier choice fields).
    const client = grpcClient(procs.fulfillment.grpcAddress, 'fulfillment/v1/fulfillment.proto', 'flowline.fulfillment.v1.FulfillmentService');
    try {
      const o = await unary<Json>(client, 'GetOrderFulfillment', { orderId: await orderIdOf(sfId) }, 15_000);
      expect(o.carrierChoice).toMatchObject({ carrier: 'SF', ruleId: 'platform-designated', designated: true, weightGrams: 780 });
      expect(o.shipments[0]).toMatchObject({ weightGrams: 780, mergeParcelId: '' });
    } finally {
      client.close();
    }
  }, 300_000);

  it('a JD order pulled by API: idSopShipmenttype 68 (京配) reaches the carrier choice as designated JD; a seller-shipped one (商家自配送) designates nothing', async () => {
    const bj = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const at = Date.now() - 20 * 60_000;
    const jdOrder = (orderId: string, over: Record<string, unknown>) => ({
      orderId, orderState: 'WAIT_SELLER_STOCK_OUT', orderStartTime: bj(at), paymentConfirmTime: bj(at), orderPayment: '50.00', freightPrice: '0.00', sellerDiscount: '0.00', pin: `jd_pin_${uniqueSuffix()}`,
      consigneeInfo: { fullname: '张三', mobile: '13800001111', province: '北京', city: '北京市', county: '朝阳区', fullAddress: '建国路88号' },
      itemInfoList: [{ skuId: '100012345678', outerSkuId: 'TEA-JD-JD', skuName: 'TEA-JD-JD 商品', itemTotal: '1', jdPrice: '50.00' }],
      ...over,
    });
    const jdDelivered = `3001${Date.now()}`.slice(0, 14);
    const sellerShipped = `${jdDelivered}7`;
    platforms.jd.set(jdDelivered, { modified: new Date(at).toISOString(), order: jdOrder(jdDelivered, { idSopShipmenttype: 68 }) as never });
    platforms.jd.set(sellerShipped, { modified: new Date(at).toISOString(), order: jdOrder(sellerShipped, {}) as never });
    const pulled = await call(procs['channel-gateway'].httpUrl, 'POST', '/api/connectors/jd/jd-api-shop/pull');
    expect(pulled.json, JSON.stringify(pulled.json)).toMatchObject({ orders: 2, imported: 2, rejected: 0 });
    // The pull named the fields it reads (JD answers only those), idSopShipmenttype among them.
    const searches = platforms.calls.filter((c) => c.method === 'jingdong.pop.order.search');
    expect(searches.length).toBeGreaterThan(0);
    for (const c of searches) {
      expect(c.refused).toBeUndefined();
      expect(String(JSON.parse(String(c.params['360buy_param_json'])).optional_fields).split(',')).toContain('idSopShipmenttype');
    }

    const jd = await fulfillmentOf(await orderIdOf(jdDelivered));
    expect(jd.carrierChoice).toMatchObject({ carrier: 'JD', ruleId: 'platform-designated', designated: true });
    const seller = await fulfillmentOf(await orderIdOf(sellerShipped));
    expect(seller.carrierChoice.ruleId).not.toBe('platform-designated');
    expect(seller.carrierChoice.designated ?? false).toBe(false);
  }, 300_000);
});
