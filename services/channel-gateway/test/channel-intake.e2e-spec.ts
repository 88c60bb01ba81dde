import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '@flowline/messaging';
import { MAX_LINE_QUANTITY, type OrderSubmission } from '@flowline/contracts';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { authHeader, createTestDatabase, kafkaBrokers, personaHeader, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import iconv from 'iconv-lite';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeOrderProblems } from '../src/domain/import/submission';
import { startFakePlatforms, signDouyinPush, signShopifyWebhook, type FakePlatforms } from './fakes/platforms';
import { call, eventually, fixture } from './support/harness';

/*
 * Channel intake across processes: inventory, order-intake and channel-gateway each their own
 * process and database on one topic prefix (real Kafka + PostgreSQL). Platform exports are uploaded
 * to channel-gateway, which places and moves the orders through order-intake's REST API.
 */

const prefix = testTopicPrefix();
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const procs: Record<string, ServiceProcess> = {};
let gatewayDbUrl = '';
let platforms: FakePlatforms;
const profileDir = mkdtempSync(join(tmpdir(), 'cg-profiles-'));
const SHOPIFY_SECRET = 'shpss_e2e';
// Gift rules (赠品策略) of this run: only JD orders with TEA-DHP-100 get the cup, so other tests' orders are unchanged.
const giftRulesFile = join(mkdtempSync(join(tmpdir(), 'cg-gifts-')), 'gift-rules.yaml');
writeFileSync(
  giftRulesFile,
  'version: 3\nrules:\n  - id: dhp-cup\n    channels: [jd]\n    from: 2020-01-01T00:00:00+08:00\n    until: 2100-01-01T00:00:00+08:00\n    when: { skus: [TEA-DHP-100] }\n    gift: { sku: GIFT-CUP-01, title: 赠品 品茗杯, quantity: 1 }\n',
);

const gw = (method: string, path: string, body?: unknown) => call(procs['channel-gateway'].httpUrl, method, path, body);
const intake = (method: string, path: string) => call(procs['order-intake'].httpUrl, method, path);
const inventory = (method: string, path: string, body?: unknown) => call(procs.inventory.httpUrl, method, path, body);
const upload = (channel: string, name: string, bytes: Buffer, extra: Record<string, unknown> = {}) =>
  gw('POST', '/api/imports', { channel, file: { name, contentBase64: bytes.toString('base64') }, ...extra });

async function ordersOfShop(shopId: string): Promise<{ orderId: string; channelOrderId: string; stage: string }[]> {
  const all: { orderId: string; channelOrderId: string; stage: string }[] = [];
  let cursor = '';
  for (;;) {
    const r = await intake('GET', `/api/orders?shopId=${encodeURIComponent(shopId)}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    all.push(...(r.json.orders as { orderId: string; channelOrderId: string; stage: string }[]));
    if (!r.json.nextCursor) return all;
    cursor = r.json.nextCursor as string;
  }
}

async function orderOf(channel: string, channelOrderId: string): Promise<{ orderId: string; appliedSteps: string[] }> {
  const c = new Client({ connectionString: gatewayDbUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ order_id: string; applied_steps: string[] }>('SELECT order_id, applied_steps FROM channel_orders WHERE channel = $1 AND channel_order_id = $2', [channel, channelOrderId]);
    if (!rows[0]) throw new Error(`no channel order ${channel} ${channelOrderId}`);
    return { orderId: rows[0].order_id, appliedSteps: rows[0].applied_steps };
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
  const start = async (service: string, env: Record<string, string>) => {
    const db = await createTestDatabase(`e2e_${service.replace(/-/g, '_')}`);
    dbs.push(db);
    if (service === 'channel-gateway') gatewayDbUrl = db.url;
    procs[service] = await startServiceProcess({ service, env: { ...common, ...env, DATABASE_URL: db.url }, readyTimeoutMs: 120_000 });
  };
  await Promise.all([start('inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }), start('order-intake', { ORDER_TIMEOUT_SCAN_INTERVAL_MS: '500' })]);
  platforms = await startFakePlatforms();
  const shops = [
    { platform: 'taobao', shopId: 'tb-api-shop', ...platforms.creds.taobao, accessToken: 'tb-session', baseUrl: platforms.url },
    { platform: 'pinduoduo', shopId: 'pdd-api-shop', ...platforms.creds.pinduoduo, accessToken: 'pdd-token', baseUrl: platforms.url },
    { platform: 'douyin', shopId: 'dy-api-shop', ...platforms.creds.douyin, accessToken: 'dy-token', baseUrl: platforms.url },
    { platform: 'jd', shopId: 'jd-api-shop', ...platforms.creds.jd, accessToken: 'jd-token', baseUrl: platforms.url },
    { platform: 'shopify', shopId: 'web-store', appKey: 'shopify-app', appSecret: SHOPIFY_SECRET, baseUrl: platforms.url },
  ];
  await start('channel-gateway', {
    ORDER_INTAKE_URL: procs['order-intake'].httpUrl,
    CHANNEL_SHOPS: JSON.stringify(shops),
    CHANNEL_POLL_INTERVAL_MS: '0',
    CHANNEL_PROFILE_DIRS: profileDir,
    CHANNEL_PULL_LOOKBACK_MS: String(2 * 3_600_000),
    CHANNEL_STOCK_PUSH_PER_SECOND: '2',
    CHANNEL_STOCK_PUSH_INTERVAL_MS: '100',
    CHANNEL_GIFT_RULES_FILE: giftRulesFile,
  });
  expect((await inventory('PUT', '/api/stock/warehouses/WH-HZ-01', { name: '杭州仓', priority: 1 })).status).toBe(200);
  for (const [sku, name] of [['TEA-LJ-250', '明前龙井 250g'], ['TEA-SM-100', '白露寿眉 100g'], ['TEA-YZ-50', '白毫银针 50g'], ['TEA-DHP-100', '大红袍 100g'], ['GIFT-CUP-01', '赠品 品茗杯']]) {
    expect((await inventory('PUT', `/api/stock/skus/${sku}`, { name })).status).toBe(200);
    const received = await inventory('POST', '/api/stock/receipts', { sku, warehouseId: 'WH-HZ-01', quantity: 1000, reference: `PO-${sku}` });
    expect(received.status, JSON.stringify(received.json)).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
  await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
  await platforms?.close();
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'channel-gateway-e2e-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  for (const db of dbs) await db.drop();
}, 120_000);

describe('file imports into order-intake', () => {
  it('imports the Taobao classic GBK export joined with its items file: ids intact, money exact, statuses through the flow', async () => {
    const r = await upload('taobao', 'ExportOrderList.csv', fixture('taobao-classic-orders.gbk.csv'), {
      items: { name: 'ExportOrderDetailList.csv', contentBase64: fixture('taobao-classic-items.gbk.csv').toString('base64') },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({ rowsRead: 6, summaryRows: 1, duplicateRows: 1, ordersSeen: 4, imported: 4, duplicates: 0, updated: 0, rejected: [], refusedChanges: [], autoIngestRate: 1 });
    expect(r.json.file).toMatchObject({ encoding: 'gb18030', bom: false, format: 'csv' });

    const paid = await orderOf('taobao', '4012345678901234567');
    const order = (await intake('GET', `/api/orders/${paid.orderId}`)).json;
    expect(order).toMatchObject({ channel: 'taobao', channelOrderId: '4012345678901234567', shopId: '茗香旗舰店' });
    expect(order.totals.grandTotal).toBe(30590);
    expect(order.lines.map((l: { sku: string; quantity: number; unitPrice: number }) => [l.sku, l.quantity, l.unitPrice])).toEqual([
      ['TEA-LJ-250', 2, 12800],
      ['TEA-SM-100', 1, 5990],
    ]);
    expect(['paid', 'stock_reserved', 'ready_to_ship']).toContain(order.stage);
    // Paid when the buyer paid (订单付款时间 16:00:12 Beijing), not when the file came in.
    expect(order.payment).toMatchObject({ amount: 30590, reportedPaidAt: '2025-11-25T08:00:12.000Z' });
    expect(paid.appliedSteps).toEqual(['placed', 'paid']);
    // Closed before payment -> cancelled; closed after payment -> refunded through the flow.
    expect((await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901234569')).orderId}`)).json.stage).toBe('cancelled');
    expect((await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901234570')).orderId}`)).json.stage).toBe('refunded');
    expect((await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901234568')).orderId}`)).json.stage).toBe('placed');
  });

  it('Taobao: a dry run reports what the import then does; closed after shipment ends refunded without joining the queue; identical 宝贝报表 rows are two sub-orders, or held when nothing confirms them', async () => {
    const header = iconv.decode(fixture('taobao-classic-orders.gbk.csv'), 'gbk').split('\n')[0].trimEnd();
    const itemsHeader = iconv.decode(fixture('taobao-classic-items.gbk.csv'), 'gbk').split('\n')[0].trimEnd();
    // 订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,买家留言,收货人姓名,收货地址 ,运送方式,联系电话 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝种类 ,物流单号 ,物流公司,订单备注,宝贝总数量,店铺名称,订单关闭原因,退款金额
    const row = (id: string, goods: string, status: string, phone: string, tracking: string, carrier: string, units: number | '', refund: string) =>
      `"=""${id}""",tb_e2e,,${goods},0.00,${goods},${goods},${status},,钱七,浙江省 杭州市 西湖区 文三路100号,快递,,${phone},2025-11-27 10:00:00,2025-11-27 10:01:00,白露寿眉 100g,1,${tracking},${carrier},,${units},茗香旗舰店,${refund === '0.00' ? '' : '买家申请退款'},${refund}`;
    const orders = [
      header,
      row('4012345678901235001', '128.00', '交易关闭', '13812340001', 'SF1234567890', '顺丰速运', 1, '128.00'),
      row('4012345678901235002', '119.80', '买家已付款，等待卖家发货', '13812340002', '', '', 2, '0.00'),
      row('4012345678901235003', '59.90', '买家已付款，等待卖家发货', '(0571)88886666', '', '', 1, '0.00'),
      // No 宝贝总数量 and paid for one unit, yet two identical item rows: a doubled export or two sub-orders.
      row('4012345678901235004', '59.90', '买家已付款，等待卖家发货', '13812340004', '', '', '', '0.00'),
    ].join('\r\n');
    const items = [
      itemsHeader,
      '"=""4012345678901235001""",明前龙井 250g,128.00,1,,,,,交易关闭,TEA-LJ-250',
      // The buyer bought the same tea twice: two sub-orders, identical rows.
      '"=""4012345678901235002""",白露寿眉 100g,59.90,1,,,,,买家已付款，等待卖家发货,TEA-SM-100',
      '"=""4012345678901235002""",白露寿眉 100g,59.90,1,,,,,买家已付款，等待卖家发货,TEA-SM-100',
      '"=""4012345678901235003""",白露寿眉 100g,59.90,1,,,,,买家已付款，等待卖家发货,TEA-SM-100',
      '"=""4012345678901235004""",白露寿眉 100g,59.90,1,,,,,买家已付款，等待卖家发货,TEA-SM-100',
      '"=""4012345678901235004""",白露寿眉 100g,59.90,1,,,,,买家已付款，等待卖家发货,TEA-SM-100',
    ].join('\r\n');
    const send = (dryRun: boolean) =>
      upload('taobao', 'ExportOrderList-e2e.csv', iconv.encode(orders, 'gbk'), { items: { name: 'ExportOrderDetailList-e2e.csv', contentBase64: iconv.encode(items, 'gbk').toString('base64') }, dryRun });
    const phoneRefusal = { channelOrderId: '4012345678901235003', reasons: [expect.objectContaining({ code: 'ORDER_INVALID', column: '联系手机' })] };

    const dry = await send(true);
    expect(dry.status, JSON.stringify(dry.json)).toBe(201);
    expect(dry.json).toMatchObject({ dryRun: true, ordersSeen: 4, imported: 3, rejected: [expect.objectContaining(phoneRefusal)] });
    const real = await send(false);
    expect(real.status, JSON.stringify(real.json)).toBe(201);
    expect(real.json).toMatchObject({ ordersSeen: 4, imported: 3, rejected: [expect.objectContaining(phoneRefusal)], refusedChanges: [] });

    const closed = (await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901235001')).orderId}`)).json;
    expect(closed.stage).toBe('refunded');
    expect(JSON.stringify(closed)).toContain('SF1234567890');
    // Held before its payment was recorded: nothing was ever reserved for it.
    const held = await inventory('GET', `/api/stock/reservations/${closed.orderId}`);
    expect(JSON.stringify(held.json)).not.toContain('TEA-LJ-250');

    const twice = (await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901235002')).orderId}`)).json;
    expect(twice.lines.reduce((n: number, l: { sku: string; quantity: number }) => n + (l.sku === 'TEA-SM-100' ? l.quantity : 0), 0)).toBe(2);
    expect(twice.totals.grandTotal).toBe(11980);

    // Unconfirmed identical rows: both lines placed, the order on hold naming the row, for a person to check before it ships.
    const doubtful = (await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901235004')).orderId}`)).json;
    expect(doubtful.lines.reduce((n: number, l: { quantity: number }) => n + l.quantity, 0)).toBe(2);
    expect(doubtful.flags).toContain('on_hold');
    expect(doubtful.hold.reason).toContain('宝贝报表第 7 行');
  });

  it("the import's pre-flight check refuses exactly what order-intake's PlaceOrder refuses (each limit at its edge, sent to the real API)", async () => {
    const base: OrderSubmission = {
      channel: 'taobao',
      channelOrderId: 'DRIFT-0',
      shopId: '茗香旗舰店',
      customer: { nickname: 'tb_drift', name: '钱七', phone: '13812340009', tags: [] },
      shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路100号', detail: '', recipient: '钱七', phone: '13812340009' },
      lines: [{ lineId: 'L1', sku: 'TEA-SM-100', title: '白露寿眉 100g', quantity: 1, unitPrice: 5990, lineDiscount: 0 }],
      shippingFee: 0,
      orderDiscount: 0,
      currency: 'CNY',
      tags: [],
      attachments: [],
      placedAt: '2025-11-27T02:00:00.000Z',
    };
    const line = (over: Partial<OrderSubmission['lines'][number]>) => ({ lines: [{ ...base.lines[0], ...over }] });
    const address = (over: Partial<OrderSubmission['shippingAddress']>) => ({ shippingAddress: { ...base.shippingAddress, ...over } });
    // [what, the change, accepted by both?]
    const cases: [string, Partial<OrderSubmission>, boolean][] = [
      ['title of 200 characters', line({ title: '茶'.repeat(200) }), true],
      ['title of 201 characters', line({ title: '茶'.repeat(201) }), false],
      ['quantity at the most', line({ quantity: MAX_LINE_QUANTITY, unitPrice: 1 }), true],
      ['quantity above the most', line({ quantity: MAX_LINE_QUANTITY + 1, unitPrice: 1 }), false],
      ['phone with brackets', address({ phone: '(0571)88886666' }), false],
      ['phone with a + and dashes', address({ phone: '+86 138-1234-0009' }), true],
      ['province of 51 characters', address({ province: '省'.repeat(51) }), false],
      ['street of 200 characters', address({ street: '路'.repeat(200) }), true],
      ['street of 201 characters', address({ street: '路'.repeat(201) }), false],
      ['SKU with a tab', line({ sku: 'TEA\tSM' }), false],
      ['50 tags', { tags: Array.from({ length: 50 }, (_, i) => `t${i}`) }, true],
      ['51 tags', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, false],
      ['discount above goods and shipping', { orderDiscount: 6000 }, false],
      ['placed in 1999', { placedAt: '1999-12-31T00:00:00.000Z' }, false],
    ];
    let n = 0;
    for (const [what, change, accepted] of cases) {
      const submission = { ...base, ...change, channelOrderId: `DRIFT-${uniqueSuffix()}-${n++}` } as OrderSubmission;
      const problems = placeOrderProblems(submission, new Date().toISOString());
      const placed = await call(procs['order-intake'].httpUrl, 'POST', '/api/orders', submission, { 'idempotency-key': `drift-${submission.channelOrderId}` });
      expect([problems.length === 0, placed.status], `${what}: ${JSON.stringify(problems)} / ${JSON.stringify(placed.json)}`).toEqual([accepted, accepted ? 201 : expect.any(Number)]);
      if (!accepted) expect([400, 422], `${what}: ${JSON.stringify(placed.json)}`).toContain(placed.status);
    }
  });

  it('imports each layout from its own encoding (BOM UTF-8, XLSX, GB18030 beyond GBK, UTF-8, Shopify, POS)', async () => {
    const cases: [string, string, number][] = [
      ['tmall', 'tmall-current.utf8-bom.csv', 2],
      ['jd', 'jd.xlsx', 2],
      ['pinduoduo', 'pinduoduo.gb18030.csv', 3],
      ['douyin', 'douyin.utf8.csv', 2],
      ['web', 'shopify.utf8.csv', 3],
      ['offline', 'offline-pos.utf8.csv', 2],
    ];
    for (const [channel, name, n] of cases) {
      const r = await upload(channel, name, fixture(name));
      expect(r.status, `${name}: ${JSON.stringify(r.json)}`).toBe(201);
      expect(r.json, name).toMatchObject({ ordersSeen: n, imported: n, rejected: [], refusedChanges: [] });
    }
    // GB18030 characters outside GBK survive the trip into order-intake.
    const pdd = (await intake('GET', `/api/orders/${(await orderOf('pinduoduo', '251125-061234567890123')).orderId}`)).json;
    expect(pdd.totals.grandTotal).toBe(24050);
    // Douyin: tab-prefixed 19-digit id kept as text; ciphertext flagged, never used as a name.
    const dy = (await intake('GET', `/api/orders/${(await orderOf('douyin', '6931234567890123456')).orderId}`)).json;
    expect(dy.channelOrderId).toBe('6931234567890123456');
    expect(dy.tags).toContain('pii:encrypted');
    // order-intake's own field says the recipient must be resolved through the platform (no placeholders).
    expect(dy.recipientProtection).toEqual({ masked: [], encrypted: ['name', 'phone', 'address'], withheld: [] });
    expect(dy.shippingAddress).toMatchObject({ recipientMasked: '', phoneMasked: '' });
    expect(JSON.stringify(dy)).not.toContain('Zm9vYmFy');
    const jd = (await intake('GET', `/api/orders/${(await orderOf('jd', '300012345678')).orderId}`)).json;
    expect(jd.tags).toContain('pii:masked');
    expect(jd.recipientProtection.masked).toContain('phone');
    expect(jd.totals.grandTotal).toBe(30090);
  });

  it('a re-import of the same file is a no-op; a re-export with 交易关闭 after payment refunds the order and releases its stock', async () => {
    const again = await upload('pinduoduo', 'pinduoduo.gb18030.csv', fixture('pinduoduo.gb18030.csv'));
    expect(again.json).toMatchObject({ ordersSeen: 3, imported: 0, duplicates: 3, updated: 0 });
    // A dry run of a changed export reports what would change and changes nothing.
    const changed = iconv.decode(fixture('pinduoduo.gb18030.csv'), 'gb18030').replace('待发货', '未发货，退款成功').replace('无售后或售后取消', '退款成功');
    const dry = await upload('pinduoduo', 'pdd-dry.csv', iconv.encode(changed, 'gb18030'), { dryRun: true });
    expect(dry.json).toMatchObject({ dryRun: true, ordersSeen: 3, imported: 0, updated: 1, duplicates: 2 });
    expect((await gw('GET', `/api/imports/${dry.json.runId}`)).status).toBe(404);

    const { orderId } = await orderOf('pinduoduo', '251125-061234567890123');
    await eventually('reservation of the paid PDD order', async () => {
      const s = (await intake('GET', `/api/orders/${orderId}`)).json.stage as string;
      return ['stock_reserved', 'ready_to_ship', 'awaiting_approval'].includes(s) ? s : undefined;
    });
    const reserved = (await inventory('GET', `/api/stock/reservations/${orderId}`)).json;
    expect(JSON.stringify(reserved)).toContain('TEA-LJ-250');

    // The seller re-exports after the platform refunded the order before shipment.
    const text = iconv.decode(fixture('pinduoduo.gb18030.csv'), 'gb18030').replace('待发货', '未发货，退款成功').replace('无售后或售后取消', '退款成功');
    const update = await upload('pinduoduo', 'pinduoduo-2.csv', iconv.encode(text, 'gb18030'));
    expect(update.json, JSON.stringify(update.json)).toMatchObject({ ordersSeen: 3, imported: 0, updated: 1, duplicates: 2, refusedChanges: [] });
    expect((await intake('GET', `/api/orders/${orderId}`)).json.stage).toBe('refunded');
    await eventually('stock released after the refund', async () => {
      const r = (await inventory('GET', `/api/stock/reservations/${orderId}`)).json;
      return JSON.stringify(r).includes('released') ? r : undefined;
    });
  });

  it('bad rows -> exact quarantine report (zh-CN / en); a person fixes the row and the order goes in', async () => {
    const r = await upload('pinduoduo', 'bad.csv', fixture('pinduoduo-bad-rows.utf8-bom.csv'));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ ordersSeen: 5, imported: 1, autoIngestRate: 0.2 });
    expect(r.json.rejected.map((x: { channelOrderId: string; rowNumbers: number[]; reasons: { code: string; column?: string; zh: string; en: string }[] }) => [x.channelOrderId, x.rowNumbers, x.reasons])).toEqual([
      ['BAD-001', [2], [{ code: 'BAD_AMOUNT', column: '商品总价（元）', zh: '商品总价（元）不是有效金额："128.345"', en: '商品总价（元） is not an amount: "128.345"' }]],
      ['BAD-002', [3], [{ code: 'UNKNOWN_STATUS', column: '订单状态', zh: '未知的订单状态："神秘状态"', en: 'unknown order status: "神秘状态"' }]],
      [
        'BAD-003',
        [4],
        [
          { code: 'BAD_TIME', column: '订单成交时间', zh: '订单成交时间不是有效时间："2025-11-28 25:00"', en: '订单成交时间 is not a time: "2025-11-28 25:00"' },
          { code: 'BAD_QUANTITY', column: '商品数量(件)', zh: '商品数量(件)不是正整数："0"', en: '商品数量(件) is not a positive whole number: "0"' },
        ],
      ],
      ['BAD-005', [6], [{ code: 'MISSING_FIELD', column: '商家编码-SKU维度', zh: '商家编码-SKU维度为空', en: '商家编码-SKU维度 is empty' }]],
    ]);
    const q = await gw('GET', '/api/quarantine?channel=pinduoduo');
    expect(q.json.map((e: { channelOrderId: string }) => e.channelOrderId)).toEqual(['BAD-001', 'BAD-002', 'BAD-003', 'BAD-005']);
    expect(q.json.map((e: { shopId: string }) => e.shopId)).toEqual(['拼多多茗香店', '拼多多茗香店', '拼多多茗香店', '拼多多茗香店']);
    // A user limited to other shops sees none of them (their raw rows name the buyer) and cannot retry one.
    const jdOnly = await authHeader('customer_service', { shops: ['jd-flagship'] });
    expect((await call(procs['channel-gateway'].httpUrl, 'GET', '/api/quarantine?channel=pinduoduo', undefined, jdOnly)).json).toEqual([]);
    const other = await call(procs['channel-gateway'].httpUrl, 'POST', `/api/quarantine/${r.json.rejected[1].quarantineId}/fix`, { edits: [] }, jdOnly);
    expect(other.status).toBe(404);
    expect(other.json).toMatchObject({ code: 'QUARANTINE_NOT_FOUND' });
    const pddOnly = await authHeader('customer_service', { shops: ['拼多多茗香店'] });
    expect((await call(procs['channel-gateway'].httpUrl, 'GET', '/api/quarantine?channel=pinduoduo', undefined, pddOnly)).json).toHaveLength(4);

    const id = r.json.rejected.find((x: { channelOrderId: string }) => x.channelOrderId === 'BAD-001').quarantineId as string;
    const fixed = await call(procs['channel-gateway'].httpUrl, 'POST', `/api/quarantine/${id}/fix`, { edits: [{ rowNumber: 2, column: '商品总价（元）', value: '128.00' }] }, await personaHeader('cs-lily', 'customer_service'));
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    expect(fixed.json.outcome.kind).toBe('imported');
    // Placed with the person (their own token, issue #16) as its actor: downstream (tracking's ingest mode) it is a manual ingest.
    const placedBy = await eventually('OrderPlaced of the fixed order on orders.events.v1', async () => {
      const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'cg-e2e-reader' });
      const consumer = kafka.consumer({ groupId: `cg-e2e-${uniqueSuffix()}` });
      await consumer.connect();
      await consumer.subscribe({ topic: `${prefix}orders.events.v1`, fromBeginning: true });
      let found: { kind: string; id: string } | undefined;
      await new Promise<void>((resolve) => {
        const stop = setTimeout(resolve, 8_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            const env = JSON.parse(message.value?.toString() ?? '{}') as { type: string; data: { orderId: string }; actor?: { kind: string; id: string } };
            if (env.type === 'OrderPlaced' && env.data.orderId === fixed.json.outcome.orderId) {
              found = env.actor;
              clearTimeout(stop);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
      return found;
    }, 60_000, 500);
    expect(placedBy).toMatchObject({ kind: 'user', id: 'cs-lily' });
    expect(fixed.json.entry.status).toBe('resolved');
    const stats = (await gw('GET', '/api/channels/ingest')).json.find((s: { channel: string }) => s.channel === 'pinduoduo');
    // 3 from the clean file + GOOD-004 + BAD-001 (fixed by a person) ingested; 3 still quarantined.
    expect(stats).toMatchObject({ ingested: 5, touchedByPerson: 1, quarantined: 3 });
    expect(stats.autoIngestRate).toBeCloseTo(4 / 8, 6);
  });

  it('an import killed half-way and run again places every order exactly once', async () => {
    const header = iconv.decode(fixture('pinduoduo.gb18030.csv'), 'gb18030').split('\r\n')[0];
    const shop = `kill-${uniqueSuffix()}`;
    const rows = Array.from({ length: 60 }, (_, i) =>
      ['明前龙井 250g', `K-${shop}-${String(i).padStart(3, '0')}`, '待发货', '128.00', '0.00', '0.00', '0.00', '128.00', '128.00', '1', 'TEA-LJ-250', '测试', '13512345678', '浙江省', '杭州市', '西湖区', '', `文三路${i}号`, '2025-11-28 08:00:00', '2025-11-28 08:00:05', '无售后或售后取消', '', '', '', shop].join(','),
    );
    const dir = mkdtempSync(join(tmpdir(), 'cg-kill-'));
    const file = join(dir, 'pdd-big.csv');
    writeFileSync(file, iconv.encode([header, ...rows].join('\r\n') + '\r\n', 'gb18030'));
    const env = { ...process.env, DATABASE_URL: gatewayDbUrl, ORDER_INTAKE_URL: procs['order-intake'].httpUrl };
    const cli = (args: string[]) => spawn(process.execPath, ['-r', '@swc-node/register', 'scripts/import.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

    const first = cli([file, '--channel', 'pinduoduo']);
    const firstExit = new Promise<number | null>((res) => first.on('exit', (code) => res(code)));
    await eventually('the first run to be part way', async () => {
      const c = new Client({ connectionString: gatewayDbUrl });
      await c.connect();
      try {
        const { rows: n } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM channel_orders WHERE shop_id = $1`, [shop]);
        return Number(n[0].n) >= 5 ? Number(n[0].n) : undefined;
      } finally {
        await c.end();
      }
    }, 120_000, 50);
    first.kill('SIGKILL');
    await firstExit;
    const placedBefore = (await ordersOfShop(shop)).length;
    expect(placedBefore).toBeGreaterThan(0);
    expect(placedBefore).toBeLessThan(60);

    const second = cli([file, '--channel', 'pinduoduo', '--json']);
    let out = '';
    second.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((res) => second.on('exit', (c) => res(c)));
    expect(code, out).toBe(0);
    const report = JSON.parse(out) as { resumed: boolean; imported: number; duplicates: number; ordersSeen: number };
    expect(report).toMatchObject({ resumed: true, ordersSeen: 60, imported: 60, duplicates: 0 });

    const placed = await ordersOfShop(shop);
    expect(placed).toHaveLength(60);
    expect(new Set(placed.map((o) => o.channelOrderId)).size).toBe(60);
    // And once more: nothing new.
    const third = cli([file, '--channel', 'pinduoduo', '--json']);
    let out3 = '';
    third.stdout.on('data', (d: Buffer) => (out3 += d.toString()));
    await new Promise((res) => third.on('exit', res));
    expect(JSON.parse(out3)).toMatchObject({ resumed: false, imported: 0, duplicates: 60 });
    expect(await ordersOfShop(shop)).toHaveLength(60);
  });
  it('a custom profile, then its fix (version 2) re-maps the imported orders by replay and applies the corrected status', async () => {
    // Version 1 wrongly reads 已作废 (voided) as paid.
    const v1 = readFileSync(join(REPO_ROOT, 'services/channel-gateway/profiles/offline-pos.yaml'), 'utf8').replace('id: offline-pos', 'id: pos-custom').replace('已作废: closed', '已作废: paid');
    writeFileSync(join(profileDir, 'pos-custom.v1.yaml'), v1);
    const r = await upload('api', 'pos.csv', fixture('offline-pos.utf8.csv'), { profile: 'pos-custom' });
    expect(r.json, JSON.stringify(r.json)).toMatchObject({ profile: { id: 'pos-custom', version: 1 }, imported: 2 });
    const voided = await orderOf('api', 'POS-20251201-0002');
    expect(voided.appliedSteps).toEqual(['placed', 'paid']);

    writeFileSync(join(profileDir, 'pos-custom.v2.yaml'), v1.replace('version: 1', 'version: 2').replace('已作废: paid', '已作废: closed'));
    const remap = await gw('POST', '/api/profiles/pos-custom/remap');
    expect(remap.status, JSON.stringify(remap.json)).toBe(200);
    expect(remap.json).toMatchObject({ profile: { id: 'pos-custom', version: 2 }, orders: 2, updated: 1, unchanged: 1, failed: [] });
    expect((await intake('GET', `/api/orders/${voided.orderId}`)).json.stage).toBe('refunded');
    // Nothing left on the old version: a second re-map has nothing to do.
    expect((await gw('POST', '/api/profiles/pos-custom/remap')).json).toMatchObject({ orders: 0 });
  });
});

// ---- API connectors against the fake platforms -------------------------------------------------------

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const bj = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
const unix = (iso: string) => Math.floor(Date.parse(iso) / 1000);

function douyinOrder(id: string, status: number, modified: string) {
  return {
    order_id: id,
    order_status: status,
    order_status_desc: status === 2 ? '待发货' : '已取消',
    create_time: unix(modified) - 60,
    pay_time: unix(modified) - 30,
    pay_amount: 17790,
    post_amount: 0,
    promotion_platform_amount: 500,
    promotion_shop_amount: 500,
    encrypt_post_receiver: '#Zm9vYmFy#',
    encrypt_post_tel: '$MTM4KioqKjU2Nzg=$',
    post_addr: { province: { name: '浙江省' }, city: { name: '杭州市' }, town: { name: '西湖区' }, street: { name: '西溪街道' }, encrypt_detail: '#YWRkcmVzcw==#' },
    sku_order_list: [
      { order_id: `${id}1`, code: 'TEA-LJ-250', product_name: '明前龙井 250g', item_num: 1, origin_amount: 12800 },
      { order_id: `${id}2`, code: 'TEA-SM-100', product_name: '白露寿眉 100g', item_num: 1, origin_amount: 5990 },
    ],
  };
}

describe('group-buy (拼团)', () => {
  it('a PDD export row 待成团 is not placed (waiting); the re-export once the group formed places and pays it', async () => {
    const header = '商品,订单号,订单状态,商品总价（元）,店铺优惠折扣(元),平台优惠折扣(元),邮费(元),用户实付金额(元),商家实收金额(元),商品数量(件),商家编码-SKU维度,收货人,手机,省,市,区,街道,详细地址,订单成交时间,支付时间,售后状态,快递单号,快递公司,商家备注,店铺名称';
    const row = (status: string) => `明前龙井 250g,GB-001,${status},128.00,0.00,0.00,0.00,128.00,128.00,1,TEA-LJ-250,韩梅梅,13511112222,浙江省,杭州市,西湖区,,文三路1号,2025-12-01 08:00:00,2025-12-01 08:00:05,无售后或售后取消,,,,拼多多茗香店`;
    const forming = await upload('pinduoduo', 'group-forming.csv', Buffer.from(`${header}\n${row('待成团')}\n`, 'utf8'));
    expect(forming.json, JSON.stringify(forming.json)).toMatchObject({ ordersSeen: 1, imported: 0, waiting: 1, rejected: [], autoIngestRate: 1 });
    expect((await orderOf('pinduoduo', 'GB-001').catch(() => null))?.orderId).toBeUndefined();
    const formed = await upload('pinduoduo', 'group-formed.csv', Buffer.from(`${header}\n${row('待发货')}\n`, 'utf8'));
    expect(formed.json, JSON.stringify(formed.json)).toMatchObject({ ordersSeen: 1, imported: 1, waiting: 0 });
    const order = (await intake('GET', `/api/orders/${(await orderOf('pinduoduo', 'GB-001')).orderId}`)).json;
    expect(order.totals.grandTotal).toBe(12800);
    await eventually('paid and reserved', async () => (['paid', 'stock_reserved', 'ready_to_ship'].includes((await intake('GET', `/api/orders/${order.orderId}`)).json.stage) ? true : undefined));
  });
});

describe('API connectors (fake platforms checking signatures and windows) and pushes', () => {
  it('pulls Douyin, Pinduoduo, Taobao and JD in their windows, checkpointed per shop; every request signed as the platform checks it', async () => {
    platforms.douyin.set('6930000000000000001', { modified: ago(90 * 60_000), order: douyinOrder('6930000000000000001', 2, ago(90 * 60_000)) });
    platforms.douyin.set('6930000000000000002', { modified: ago(20 * 60_000), order: douyinOrder('6930000000000000002', 2, ago(20 * 60_000)) });
    const pdd = (sn: string, modified: string, refund: number) => ({
      order_sn: sn, order_status: 1, refund_status: refund, created_time: bj(modified), confirm_time: bj(modified), goods_amount: 256.0, pay_amount: 240.5, postage: 0, seller_discount: 10, platform_discount: 5.5,
      receiver_name: '~AgAAAAAAAA==~', receiver_phone: '~AgAAAAAAAB==~', province: '四川省', city: '成都市', town: '武侯区', address: '~AgAAAAAAAC==~',
      item_list: [{ goods_name: '明前龙井 250g', goods_count: 2, goods_price: 128.0, outer_id: 'TEA-LJ-250' }],
    });
    platforms.pdd.set('251205-000000000001', { modified: ago(100 * 60_000), order: pdd('251205-000000000001', ago(100 * 60_000), 1) });
    platforms.pdd.set('251205-000000000002', { modified: ago(40 * 60_000), order: pdd('251205-000000000002', ago(40 * 60_000), 4) });
    // 120 Taobao trades in one window: more than one page, paged from the last page back.
    for (let i = 0; i < 120; i++) {
      const m = ago((100 - i * 0.5) * 60_000);
      platforms.top.set(`402000000000000${String(i).padStart(4, '0')}`, {
        modified: m,
        trade: {
          tid_str: `402000000000000${String(i).padStart(4, '0')}`, status: 'WAIT_SELLER_SEND_GOODS', created: bj(m), pay_time: bj(m), payment: '128.00', post_fee: '0.00', buyer_nick: 'tb_api',
          receiver_name: '张三', receiver_mobile: '13812345678', receiver_state: '浙江省', receiver_city: '杭州市', receiver_district: '西湖区', receiver_address: `文三路${i}号`,
          orders: { order: [{ oid_str: `5020000000000${String(i).padStart(4, '0')}`, outer_sku_id: 'TEA-LJ-250', title: '明前龙井 250g', num: 1, price: '128.00' }] },
        },
      });
    }

    const dy = await gw('POST', '/api/connectors/douyin/dy-api-shop/pull');
    expect(dy.status, JSON.stringify(dy.json)).toBe(200);
    expect(dy.json).toMatchObject({ orders: 2, imported: 2, rejected: 0 });
    expect(dy.json.windows).toHaveLength(1);

    const pd = await gw('POST', '/api/connectors/pinduoduo/pdd-api-shop/pull');
    expect(pd.json, JSON.stringify(pd.json)).toMatchObject({ orders: 2, imported: 2, rejected: 0 });
    // 2 h back to 3 min behind the clock in windows of at most 30 min.
    expect(pd.json.windows.length).toBe(4);
    for (const w of pd.json.windows as { start: string; end: string }[]) expect(Date.parse(w.end) - Date.parse(w.start)).toBeLessThanOrEqual(30 * 60_000);
    expect((await intake('GET', `/api/orders/${(await orderOf('pinduoduo', '251205-000000000002')).orderId}`)).json.stage).toBe('refunded');

    const tb = await gw('POST', '/api/connectors/taobao/tb-api-shop/pull');
    expect(tb.json, JSON.stringify(tb.json)).toMatchObject({ orders: 120, imported: 120, rejected: 0 });
    const pages = platforms.calls.filter((c) => c.method === 'taobao.trades.sold.increment.get').map((c) => [c.params.page_no, c.params.page_size]);
    expect(pages).toEqual([['1', '1'], ['2', '100'], ['1', '100']]);

    const jdModified = ago(50 * 60_000);
    platforms.jd.set('300099990001', {
      modified: jdModified,
      order: {
        orderId: '300099990001', orderState: 'WAIT_SELLER_STOCK_OUT', orderStartTime: bj(jdModified), paymentConfirmTime: bj(jdModified), orderPayment: '118.00', freightPrice: '0.00', sellerDiscount: '10.00', pin: 'jd_pin_1',
        consigneeInfo: { fullname: '张*', mobile: '1******6198', province: '北京', city: '北京市', county: '朝阳区', fullAddress: '建国路88号****' },
        itemInfoList: [{ skuId: '100012345678', outerSkuId: 'TEA-LJ-250', skuName: '明前龙井 250g', itemTotal: '1', jdPrice: '128.00' }],
      },
    });
    const jd = await gw('POST', '/api/connectors/jd/jd-api-shop/pull');
    expect(jd.json, JSON.stringify(jd.json)).toMatchObject({ orders: 1, imported: 1, rejected: 0 });
    const jdOrder = (await intake('GET', `/api/orders/${(await orderOf('jd', '300099990001')).orderId}`)).json;
    expect(jdOrder.totals.grandTotal).toBe(11800);
    expect(jdOrder.tags).toContain('pii:masked');

    expect(platforms.calls.filter((c) => !c.signatureOk || c.refused)).toEqual([]);
    const cps = (await gw('GET', '/api/connectors/checkpoints')).json as { platform: string; shopId: string; lagMs: number }[];
    expect(cps.map((c) => c.platform).sort()).toEqual(['douyin', 'jd', 'pinduoduo', 'taobao']);

    // Pulled again: nothing new, nothing twice.
    const again = await gw('POST', '/api/connectors/douyin/dy-api-shop/pull');
    expect(again.json).toMatchObject({ imported: 0 });
  }, 180_000);

  it('an API order the pull quarantined is retried by the fix endpoint: still unreadable stays open, the corrected payload is placed', async () => {
    const modified = new Date().toISOString();
    const order = {
      orderId: '300099990002', orderState: 'WAIT_SELLER_STOCK_OUT', orderStartTime: bj(modified), paymentConfirmTime: bj(modified), orderPayment: 'n/a', freightPrice: '0.00', sellerDiscount: '10.00', pin: 'jd_pin_2',
      consigneeInfo: { fullname: '张*', mobile: '1******6198', province: '北京', city: '北京市', county: '朝阳区', fullAddress: '建国路88号****' },
      itemInfoList: [{ skuId: '100012345678', outerSkuId: 'TEA-LJ-250', skuName: '明前龙井 250g', itemTotal: '1', jdPrice: '128.00' }],
    };
    platforms.jd.set(order.orderId, { modified, order: order as never });
    await new Promise((r) => setTimeout(r, 1_100)); // windows end on whole seconds
    const pulled = await gw('POST', '/api/connectors/jd/jd-api-shop/pull');
    expect(pulled.json, JSON.stringify(pulled.json)).toMatchObject({ orders: 0, rejected: 1 });
    const entry = ((await gw('GET', '/api/quarantine?channel=jd')).json as { id: string; channelOrderId: string; status: string; reasons: { code: string }[] }[]).find((q) => q.channelOrderId === order.orderId);
    expect(entry).toMatchObject({ status: 'open', reasons: [{ code: 'BAD_PAYLOAD' }] });
    const id = entry?.id as string;

    // Still unreadable: the entry stays open with the new reason.
    const stillBad = await call(procs['channel-gateway'].httpUrl, 'POST', `/api/quarantine/${id}/fix`, { edits: [{ rowNumber: 1, column: 'payload', value: '{"orderId":' }] });
    expect(stillBad.json.entry, JSON.stringify(stillBad.json)).toMatchObject({ status: 'open', reasons: [{ code: 'BAD_PAYLOAD', en: 'payload is not valid JSON' }] });

    const corrected = JSON.stringify({ ...order, orderPayment: '118.00' });
    const fixed = await call(procs['channel-gateway'].httpUrl, 'POST', `/api/quarantine/${id}/fix`, { edits: [{ rowNumber: 1, column: 'payload', value: corrected }] }, await personaHeader('cs-lily', 'customer_service'));
    expect(fixed.json, JSON.stringify(fixed.json)).toMatchObject({ entry: { status: 'resolved' }, outcome: { kind: 'imported' } });
    const placed = (await intake('GET', `/api/orders/${(await orderOf('jd', order.orderId)).orderId}`)).json;
    expect(placed.totals.grandTotal).toBe(11800);
    expect(placed.recipientProtection.masked).toEqual(['name', 'phone', 'address']);
  });

  it('a gift rule adds a zero-price gift line at intake, tagged with its rule-set version, and the gift is reserved with the order', async () => {
    const modified = new Date().toISOString();
    platforms.jd.set('300099990003', {
      modified,
      order: {
        orderId: '300099990003', orderState: 'WAIT_SELLER_STOCK_OUT', orderStartTime: bj(modified), paymentConfirmTime: bj(modified), orderPayment: '168.00', freightPrice: '0.00', sellerDiscount: '0.00', pin: 'jd_pin_3',
        consigneeInfo: { fullname: '王五', mobile: '13900001111', province: '北京', city: '北京市', county: '朝阳区', fullAddress: '建国路88号' },
        itemInfoList: [{ skuId: '100012345679', outerSkuId: 'TEA-DHP-100', skuName: '大红袍 100g', itemTotal: '1', jdPrice: '168.00' }],
      } as never,
    });
    await new Promise((r) => setTimeout(r, 1_100)); // windows end on whole seconds
    const pulled = await gw('POST', '/api/connectors/jd/jd-api-shop/pull');
    expect(pulled.json, JSON.stringify(pulled.json)).toMatchObject({ orders: 1, imported: 1, rejected: 0 });
    const order = (await intake('GET', `/api/orders/${(await orderOf('jd', '300099990003')).orderId}`)).json;
    expect(order.lines.map((l: { sku: string; unitPrice: number; quantity: number }) => [l.sku, l.quantity, l.unitPrice])).toEqual([['TEA-DHP-100', 1, 16800], ['GIFT-CUP-01', 1, 0]]);
    expect(order.totals.grandTotal).toBe(16800);
    expect(order.tags).toContain('gift:dhp-cup@v3');
    await eventually('the gift reserved with the order', async () => {
      const r = JSON.stringify((await inventory('GET', `/api/stock/reservations/${order.orderId}`)).json);
      return r.includes('GIFT-CUP-01') && r.includes('TEA-DHP-100') ? r : undefined;
    });
  });

  it('a Douyin push verified by event-sign is synced; a tampered push is refused; a missed push is picked up by the next pull', async () => {
    const id = '6930000000000000003';
    platforms.douyin.set(id, { modified: new Date().toISOString(), order: douyinOrder(id, 2, new Date().toISOString()) });
    const body = JSON.stringify([{ tag: '101', msg: JSON.stringify({ p_id: id, shop_id: 1 }) }]);
    const push = (raw: string, sign: string) =>
      fetch(`${procs['channel-gateway'].httpUrl}/api/push/douyin/dy-api-shop`, { method: 'POST', headers: { 'content-type': 'application/json', 'event-sign': sign }, body: raw });

    const tampered = await push(body.replace(id, '6930000000000000009'), signDouyinPush(platforms.creds.douyin, body));
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { code: string }).code).toBe('PUSH_SIGNATURE_INVALID');

    const ok = await push(body, signDouyinPush(platforms.creds.douyin, body));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ code: 0, msg: 'success' });
    expect((await orderOf('douyin', id)).appliedSteps).toEqual(['placed', 'paid']);

    // The platform cancels it after payment and the push is lost: the next pull refunds it.
    platforms.douyin.set(id, { modified: new Date().toISOString(), order: douyinOrder(id, 4, new Date().toISOString()) });
    await new Promise((r) => setTimeout(r, 1100));
    const pulled = await gw('POST', '/api/connectors/douyin/dy-api-shop/pull');
    expect(pulled.json, JSON.stringify(pulled.json)).toMatchObject({ updated: 1 });
    expect((await intake('GET', `/api/orders/${(await orderOf('douyin', id)).orderId}`)).json.stage).toBe('refunded');
  });

  it('a Shopify webhook with a valid X-Shopify-Hmac-Sha256 is synced; a tampered one is refused', async () => {
    const order = {
      id: 820982911946154500, name: '#2001', email: 'amy@example.com', created_at: '2025-12-03T10:00:00+08:00', processed_at: '2025-12-03T10:00:05+08:00', financial_status: 'paid',
      total_price: '128.00', total_discounts: '0.00', total_shipping_price_set: { shop_money: { amount: '0.00' } },
      line_items: [{ id: 466157049, sku: 'TEA-LJ-250', title: '明前龙井 250g', quantity: 1, price: '128.00' }],
      shipping_address: { name: '周艾米', phone: '13800005678', province: '浙江省', city: '杭州市', address1: '文一西路969号', address2: '余杭区' },
    };
    const raw = JSON.stringify(order);
    const hook = (b: string, h: string) => fetch(`${procs['channel-gateway'].httpUrl}/api/push/shopify/web-store`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': h }, body: b });
    expect((await hook(raw.replace('128.00', '0.01'), signShopifyWebhook(SHOPIFY_SECRET, raw))).status).toBe(401);
    expect((await hook(raw, signShopifyWebhook(SHOPIFY_SECRET, raw))).status).toBe(200);
    const o = (await intake('GET', `/api/orders/${(await orderOf('web', '#2001')).orderId}`)).json;
    expect(o.totals.grandTotal).toBe(12800);
  });

  it('pushes ATP back to the Douyin shop after a reservation: newest value, at most 2 updates per second', async () => {
    platforms.stockRatePerSecond = 2;
    expect((await inventory('PUT', '/api/stock/skus/TEA-YZ-50', { name: '白毫银针 50g', channels: [{ channel: 'douyin', sharePercent: 50 }] })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await inventory('POST', '/api/stock/receipts', { sku: 'TEA-YZ-50', warehouseId: 'WH-HZ-01', quantity: 10, reference: `PO-ATP-${i}` })).status).toBe(201);
    const submission = {
      channel: 'douyin', channelOrderId: `ATP-${uniqueSuffix()}`, shopId: 'dy-api-shop', customer: { name: '李雷', phone: '13800001234', tags: [] },
      shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路', detail: '1号', recipient: '李雷', phone: '13800001234' },
      lines: [{ lineId: '1', sku: 'TEA-YZ-50', title: '白毫银针 50g', quantity: 4, unitPrice: 6000, lineDiscount: 0 }],
      shippingFee: 0, orderDiscount: 0, currency: 'CNY', tags: [], attachments: [], placedAt: new Date().toISOString(),
    };
    const key = { 'idempotency-key': `atp-${uniqueSuffix()}` };
    const placed = await call(procs['order-intake'].httpUrl, 'POST', '/api/orders', submission, key);
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const paid = await call(procs['order-intake'].httpUrl, 'POST', `/api/orders/${placed.json.orderId}/payments`, { amount: 24000 }, { 'idempotency-key': `${key['idempotency-key']}-pay` });
    expect(paid.status, JSON.stringify(paid.json)).toBe(200);
    await eventually('reservation', async () => (JSON.stringify((await inventory('GET', `/api/stock/reservations/${placed.json.orderId}`)).json).includes('TEA-YZ-50') ? true : undefined));
    // Half of what is available after the reservation (the SKU's douyin share), as inventory says.
    const expected = (await inventory('GET', '/api/stock/skus/TEA-YZ-50')).json.atp.douyin as number;
    expect(expected).toBeGreaterThan(0);
    await eventually('the reserved ATP pushed to the Douyin shop', async () => {
      const last = platforms.stockUpdates.filter((u) => u.code === 'TEA-YZ-50').at(-1);
      return last?.stockNum === expected ? last : undefined;
    });
    const stockCalls = platforms.calls.filter((c) => c.method === 'sku.syncStock');
    expect(stockCalls.filter((c) => !c.signatureOk || c.refused).map((c) => c.refused)).toEqual([]);
    const times = platforms.stockUpdates.map((u) => u.at);
    for (const t of times) expect(times.filter((x) => x >= t && x - t < 1000).length).toBeLessThanOrEqual(2);
  });
});

describe('presale (预售) and COD (货到付款) through an import', () => {
  // Beijing time as the Taobao export writes it.
  const bj = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
  const HEADER = '订单编号,买家会员名,买家应付邮费,买家实际支付金额,订单状态,收货人姓名,收货地址 ,联系手机,订单创建时间,订单付款时间 ,店铺名称,退款金额,定金,尾款,尾款支付截止时间,预计发货时间,支付方式';
  const ADDR = '浙江省 杭州市 西湖区 文三路 478号';
  const row = (id: string, status: string, paid: string, presale: string, payment = '在线支付') =>
    `"=""${id}""",tb_预售,0.00,${paid},${status},张三,${ADDR},13812345678,${bj(Date.now() - 3_600_000)},${bj(Date.now() - 3_000_000)},tb-presale-shop,0.00,${presale},${payment}`;
  const ids = ['4019000000000000001', '4019000000000000002', '4019000000000000003'];
  const items = iconv.encode(['订单编号,标题,价格,购买数量,商家编码', ...ids.map((id) => `"=""${id}""",明前龙井 250g,128.00,2,TEA-LJ-250`)].join('\r\n'), 'gbk');
  const importRows = (name: string, ...rows: string[]) =>
    upload('taobao', name, iconv.encode([HEADER, ...rows].join('\r\n'), 'gbk'), { items: { name: 'items.csv', contentBase64: items.toString('base64') } });
  const stageOf = async (orderId: string) => (await intake('GET', `/api/orders/${orderId}`)).json as { stage: string; payment: { amount: number } | null };
  const settled = `50.00,206.00,${bj(Date.now() + 3_600_000)},${bj(Date.now() - 60_000)}`;

  it('deposit paid -> reserved; balance paid (re-export) -> ready_to_ship; unpaid balance after its deadline -> cancelled + stock released; COD -> ready_to_ship unpaid', async () => {
    const expiring = `50.00,206.00,${bj(Date.now() + 6_000)},${bj(Date.now() + 3_600_000)}`;
    const r = await importRows(
      'presale.csv',
      row(ids[0], '等待买家付尾款', '50.00', settled),
      row(ids[1], '已付定金，等待买家付尾款', '50.00', expiring),
      row(ids[2], '买家已付款，等待卖家发货', '0.00', ',,,', '货到付款'),
    );
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({ ordersSeen: 3, imported: 3, rejected: [], refusedChanges: [] });
    const a = await orderOf('taobao', ids[0]);
    const b = await orderOf('taobao', ids[1]);
    const c = await orderOf('taobao', ids[2]);
    expect([a.appliedSteps, c.appliedSteps]).toEqual([['placed', 'depositPaid'], ['placed']]);

    // Deposit in: reserved, held there (balance due).
    await eventually('presale reserved at the deposit', async () => ((await stageOf(a.orderId)).stage === 'stock_reserved' ? true : undefined));
    expect((await stageOf(a.orderId)).payment?.amount).toBe(5000);
    expect(JSON.stringify((await inventory('GET', `/api/stock/reservations/${a.orderId}`)).json)).toContain('TEA-LJ-250');

    // COD: reserved and released unpaid.
    await eventually('COD ready to ship', async () => ((await stageOf(c.orderId)).stage === 'ready_to_ship' ? true : undefined));
    expect((await stageOf(c.orderId)).payment).toBeNull();

    // The re-export shows the balance paid: the balance is recorded and the order ships (ship date passed).
    const again = await importRows('presale-2.csv', row(ids[0], '买家已付款，等待卖家发货', '256.00', settled));
    expect(again.json, JSON.stringify(again.json)).toMatchObject({ updated: 1, refusedChanges: [] });
    expect((await orderOf('taobao', ids[0])).appliedSteps).toEqual(['placed', 'depositPaid', 'paid']);
    await eventually('presale ready to ship after the balance', async () => ((await stageOf(a.orderId)).stage === 'ready_to_ship' ? true : undefined));
    expect((await stageOf(a.orderId)).payment?.amount).toBe(25600);

    // The other one's balance never came: cancelled by order-intake's presale timer, its stock released.
    await eventually('unpaid presale cancelled', async () => ((await stageOf(b.orderId)).stage === 'cancelled' ? true : undefined), 60_000);
    await eventually('stock released after the unpaid balance', async () => {
      const res = (await inventory('GET', `/api/stock/reservations/${b.orderId}`)).json;
      return JSON.stringify(res).includes('released') ? res : undefined;
    });
  });
});
