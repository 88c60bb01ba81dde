import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '@flowline/messaging';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import iconv from 'iconv-lite';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  await Promise.all([start('inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }), start('order-intake', {})]);
  await start('channel-gateway', { ORDER_INTAKE_URL: procs['order-intake'].httpUrl });
  expect((await inventory('PUT', '/api/stock/warehouses/WH-HZ-01', { name: '杭州仓', priority: 1 })).status).toBe(200);
  for (const [sku, name] of [['TEA-LJ-250', '明前龙井 250g'], ['TEA-SM-100', '白露寿眉 100g'], ['TEA-YZ-50', '白毫银针 50g']]) {
    expect((await inventory('PUT', `/api/stock/skus/${sku}`, { name })).status).toBe(200);
    const received = await inventory('POST', '/api/stock/receipts', { sku, warehouseId: 'WH-HZ-01', quantity: 1000, reference: `PO-${sku}` });
    expect(received.status, JSON.stringify(received.json)).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
  await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
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
    expect(paid.appliedSteps).toEqual(['placed', 'paid']);
    // Closed before payment -> cancelled; closed after payment -> refunded through the flow.
    expect((await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901234569')).orderId}`)).json.stage).toBe('cancelled');
    expect((await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901234570')).orderId}`)).json.stage).toBe('refunded');
    expect((await intake('GET', `/api/orders/${(await orderOf('taobao', '4012345678901234568')).orderId}`)).json.stage).toBe('placed');
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
    expect(JSON.stringify(dy)).not.toContain('Zm9vYmFy');
    const jd = (await intake('GET', `/api/orders/${(await orderOf('jd', '300012345678')).orderId}`)).json;
    expect(jd.tags).toContain('pii:masked');
    expect(jd.totals.grandTotal).toBe(30090);
  });

  it('a re-import of the same file is a no-op; a re-export with 交易关闭 after payment refunds the order and releases its stock', async () => {
    const again = await upload('pinduoduo', 'pinduoduo.gb18030.csv', fixture('pinduoduo.gb18030.csv'));
    expect(again.json).toMatchObject({ ordersSeen: 3, imported: 0, duplicates: 3, updated: 0 });

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

    const id = r.json.rejected.find((x: { channelOrderId: string }) => x.channelOrderId === 'BAD-001').quarantineId as string;
    const fixed = await gw('POST', `/api/quarantine/${id}/fix`, { edits: [{ rowNumber: 2, column: '商品总价（元）', value: '128.00' }] });
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    expect(fixed.json.outcome.kind).toBe('imported');
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
});
