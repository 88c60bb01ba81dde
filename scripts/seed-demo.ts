/**
 * Demo orders for a running Flowline (`npm start` runs this once the services are ready; run it
 * again any time: `node -r @swc-node/register scripts/seed-demo.ts`).
 *
 * Orders from every channel, in the shape each platform sends them (yuan strings on Taobao, Tmall,
 * JD and Pinduoduo; fen integers and unix times on Douyin), mapped by order-intake's channel
 * mappers to the canonical order and POSTed to order-intake's REST API. Most are then paid, so the
 * order process manager takes them on (reservation, audit, approval...); a few are cancelled or
 * put on hold. Idempotent: every request carries an Idempotency-Key derived from the channel
 * order id, so a second run changes nothing.
 *
 * ORDER_INTAKE_URL (default http://127.0.0.1:3001) says where order-intake listens.
 */
import type { OrderSubmission } from '@flowline/contracts';
import { seedInventory } from '../services/inventory/src/demo/demo-stock';
import { fromDouyin, fromJd, fromPinduoduo, fromTaobao } from '../services/order-intake/src/domain/channels/channel-mappers';
import { seedHistory } from './demo-history';

const BASE = (process.env.ORDER_INTAKE_URL ?? 'http://127.0.0.1:3001').replace(/\/$/, '');

type Action = 'pay' | 'cancel' | 'hold' | 'none';
interface Demo {
  label: string;
  order: OrderSubmission;
  then: Action[];
}

/**
 * The demo day. Fixed, not "now": a re-run must send byte-identical requests, or the
 * Idempotency-Key would (rightly) refuse them as different requests under the same key.
 */
const DEMO_DAY = '2025-11-25';
const today = (hhmmss: string) => `${DEMO_DAY} ${hhmmss}`;
/** ISO time of a Beijing wall-clock time on the demo day. */
const at = (hhmmss: string) => new Date(`${DEMO_DAY}T${hhmmss}+08:00`).toISOString();
/** Unix seconds of a Beijing wall-clock time on the demo day (Douyin's format). */
const unix = (hhmmss: string) => Math.floor(Date.parse(`${DEMO_DAY}T${hhmmss}+08:00`) / 1000);

function canonical(o: Omit<OrderSubmission, 'currency' | 'tags' | 'attachments'> & Partial<Pick<OrderSubmission, 'tags' | 'attachments'>>): OrderSubmission {
  return { currency: 'CNY', tags: [], attachments: [], ...o };
}

const DEMOS: Demo[] = [
  {
    label: '淘宝 · 龙井两罐',
    then: ['pay'],
    order: fromTaobao(
      {
        tid: '4012345678901234567',
        buyer_nick: 'tb小王爱喝茶',
        buyer_open_uid: 'AAHk5d-EAAeGwJedwSHpd9Zt',
        receiver_name: '王小明',
        receiver_mobile: '13700001111',
        receiver_state: '广东省',
        receiver_city: '深圳市',
        receiver_district: '南山区',
        receiver_town: '粤海街道',
        receiver_address: '科技园南区 8 栋 1203',
        receiver_zip: '518057',
        post_fee: '0.00',
        discount_fee: '5.00',
        buyer_message: '周末在家，请周末送达',
        created: today('09:15:03'),
        orders: [{ oid: '4012345678901234568', outer_sku_id: 'TEA-LJ-250', title: '明前西湖龙井 250g 罐装', num: '2', price: '128.00', discount_fee: '10.00', category: 'tea' }],
      },
      'taobao-teahouse',
    ),
  },
  {
    label: '天猫 · 茶具两件',
    then: ['pay'],
    order: fromTaobao(
      {
        tid: '3318459620112233445',
        buyer_nick: '杭州张伟',
        receiver_name: '张伟',
        receiver_mobile: '13812345678',
        receiver_state: '浙江省',
        receiver_city: '杭州市',
        receiver_district: '西湖区',
        receiver_address: '文三路 478 号 华星时代广场 A 座 1201',
        receiver_zip: '310013',
        post_fee: '10.00',
        created: today('10:02:41'),
        orders: [
          { oid: '3318459620112233446', outer_sku_id: 'CUP-CELADON', title: '龙泉青瓷品茗杯', num: 4, price: '59.00', category: 'teaware' },
          { oid: '3318459620112233447', outer_sku_id: 'POT-YIXING-200', title: '宜兴紫砂壶 200ml', num: 1, price: '399.00', category: 'teaware' },
        ],
      },
      'tmall-flagship',
      'tmall',
    ),
  },
  {
    label: '京东 · 青瓷杯',
    then: ['pay'],
    order: fromJd(
      {
        orderId: '301234567890',
        pin: 'jd_lilei_bj',
        consigneeInfo: { fullname: '李雷', mobile: '13900002222', province: '北京', city: '北京市', county: '海淀区', town: '中关村街道', fullAddress: '中关村大街 1 号 海龙大厦 906' },
        freightPrice: '6.00',
        orderRemark: '工作日白天送公司前台',
        orderStartTime: today('11:20:00'),
        itemInfoList: [{ skuId: '100012', outerSkuId: 'CUP-CELADON', skuName: '龙泉青瓷品茗杯', itemTotal: '2', jdPrice: '59.00' }],
      },
      'jd-self-run',
    ),
  },
  {
    label: '京东 · 青瓷梅瓶（缺货，到货自动预占）',
    then: ['pay'],
    order: fromJd(
      {
        orderId: '301234567895',
        pin: 'jd_hanmeimei',
        consigneeInfo: { fullname: '韩梅梅', mobile: '13900005555', province: '浙江省', city: '杭州市', county: '西湖区', town: '文新街道', fullAddress: '文三路 90 号 东部软件园 3 号楼' },
        freightPrice: '0.00',
        orderRemark: '送人的，请包装好',
        orderStartTime: today('11:35:00'),
        itemInfoList: [{ skuId: '100099', outerSkuId: 'VASE-CELADON-30', skuName: '龙泉青瓷梅瓶 30cm', itemTotal: '1', jdPrice: '680.00' }],
      },
      'jd-self-run',
    ),
  },
  {
    label: '京东 · 地址待核实（挂起）',
    then: ['pay', 'hold'],
    order: fromJd(
      {
        orderId: '301234567891',
        pin: 'jd_zhoujie',
        consigneeInfo: { fullname: '周杰', mobile: '13911113333', province: '河北省', city: '廊坊市', county: '三河市', fullAddress: '燕郊开发区 某小区（门牌号待补充）' },
        freightPrice: '0.00',
        orderStartTime: today('11:48:10'),
        itemInfoList: [{ skuId: '100077', outerSkuId: 'TEA-PUER-357', skuName: '云南普洱熟茶饼 357g', itemTotal: '1', jdPrice: '268.00' }],
      },
      'jd-self-run',
    ),
  },
  {
    label: '拼多多 · 燃面三袋',
    then: ['pay'],
    order: fromPinduoduo(
      {
        order_sn: '251125-334455667788990',
        receiver_name: '韩梅梅',
        receiver_phone: '13500003333',
        province: '四川省',
        city: '成都市',
        town: '武侯区',
        address: '天府大道北段 1700 号 环球中心 W3 1808',
        postage: '0',
        buyer_memo: '不要放快递柜',
        created_time: today('12:05:00'),
        item_list: [{ goods_id: '9001', outer_id: 'NOODLE-6', goods_name: '宜宾燃面 6 袋装', goods_count: 3, goods_price: '19.9' }],
      },
      'pdd-snacks',
    ),
  },
  {
    label: '抖店 · 月饼礼盒（金额为分）',
    then: ['pay'],
    order: fromDouyin(
      {
        order_id: '6920123456789012345',
        doudian_open_id: '1@#dy9Xk2',
        post_receiver: '赵敏',
        post_tel: '13600004444',
        post_addr: { province: { name: '上海市' }, city: { name: '上海市' }, town: { name: '浦东新区' }, street: { name: '陆家嘴街道' }, detail: '世纪大道 100 号 环球金融中心 52 层' },
        post_amount: 0,
        promotion_amount: 1000,
        buyer_words: '送人的，请不要放发票',
        create_time: unix('13:30:00'),
        sku_order_list: [{ sku_order_id: '6920123456789012346', code: 'MOONCAKE-BOX', product_name: '流心奶黄月饼礼盒 8 枚', item_num: 2, origin_amount: 25800 }],
      },
      'douyin-live',
    ),
  },
  {
    label: '抖店 · 未付款',
    then: [],
    order: fromDouyin(
      {
        order_id: '6920123456789012399',
        post_receiver: '孙丽',
        post_tel: '13722225555',
        post_addr: { province: { name: '江苏省' }, city: { name: '南京市' }, town: { name: '鼓楼区' }, detail: '中山北路 30 号 3 单元 502' },
        post_amount: 800,
        create_time: unix('14:10:00'),
        sku_order_list: [{ sku_order_id: '6920123456789012400', code: 'TEA-JASMINE-100', product_name: '茉莉花茶 100g', item_num: 1, origin_amount: 4900 }],
      },
      'douyin-live',
    ),
  },
  {
    label: '官网 · 定制刻字紫砂壶（需审批）',
    then: ['pay'],
    order: canonical({
      channel: 'web',
      channelOrderId: 'WEB-20251125-0001',
      shopId: 'flowline-web',
      customer: { channelCustomerId: 'u_10086', name: '陈静', phone: '13822226666', email: 'chenjing@example.com', tags: ['vip'] },
      shippingAddress: { province: '广东省', city: '广州市', district: '天河区', street: '珠江新城 华夏路 10 号', detail: '富力中心 2304', postalCode: '510623', recipient: '陈静', phone: '13822226666' },
      lines: [{ lineId: 'L1', sku: 'POT-YIXING-CUSTOM', title: '宜兴紫砂壶 定制刻字', quantity: 1, unitPrice: 128800, lineDiscount: 0, category: 'custom' }],
      shippingFee: 0,
      orderDiscount: 0,
      buyerMessage: '壶身刻“静心”二字，楷书',
      attachments: ['oss://flowline-designs/web-20251125-0001/engraving-v2.pdf'],
      placedAt: at('14:30:00'),
    }),
  },
  {
    label: '官网 · 企业采购大单（超阈值需审批）',
    then: ['pay'],
    order: canonical({
      channel: 'web',
      channelOrderId: 'WEB-20251125-0002',
      shopId: 'flowline-web',
      customer: { channelCustomerId: 'corp_hz_001', name: '刘洋', phone: '13933337777', tags: ['b2b'] },
      shippingAddress: { province: '浙江省', city: '杭州市', district: '滨江区', street: '网商路 699 号', detail: '3 号楼行政部', recipient: '刘洋', phone: '13933337777' },
      lines: [{ lineId: 'L1', sku: 'GIFT-TEA-SET', title: '年会茶礼套装', quantity: 120, unitPrice: 28800, lineDiscount: 0, category: 'gift' }],
      shippingFee: 0,
      orderDiscount: 100000,
      placedAt: at('15:05:00'),
    }),
  },
  {
    label: '官网 · 黑名单客户（规则挂起）',
    then: ['pay'],
    order: canonical({
      channel: 'web',
      channelOrderId: 'WEB-20251125-0003',
      shopId: 'flowline-web',
      customer: { channelCustomerId: 'u_66666', name: '吴某', phone: '13044448888', tags: ['blocked'] },
      shippingAddress: { province: '湖北省', city: '武汉市', district: '洪山区', street: '珞喻路 1037 号', detail: '', recipient: '吴某', phone: '13044448888' },
      lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', title: '明前西湖龙井 250g 罐装', quantity: 10, unitPrice: 12800, lineDiscount: 0, category: 'tea' }],
      shippingFee: 0,
      orderDiscount: 0,
      placedAt: at('15:40:00'),
    }),
  },
  {
    label: '门店 · 上海南京西路店',
    then: ['pay'],
    order: canonical({
      channel: 'offline',
      channelOrderId: 'POS-SH01-20251125-0042',
      shopId: 'store-shanghai-nanjingxilu',
      customer: { nickname: '门店散客', name: '黄磊', phone: '13655559999', tags: [] },
      shippingAddress: { province: '上海市', city: '上海市', district: '静安区', street: '南京西路 1266 号', detail: '恒隆广场 门店自提转寄', recipient: '黄磊', phone: '13655559999' },
      lines: [
        { lineId: 'L1', sku: 'TEA-PUER-357', title: '云南普洱熟茶饼 357g', quantity: 2, unitPrice: 26800, lineDiscount: 2000, category: 'tea' },
        { lineId: 'L2', sku: 'CUP-CELADON', title: '龙泉青瓷品茗杯', quantity: 2, unitPrice: 5900, lineDiscount: 0, category: 'teaware' },
      ],
      shippingFee: 1200,
      orderDiscount: 0,
      sellerRemark: '店员 007 代下单，顾客到店已付',
      placedAt: at('16:20:00'),
    }),
  },
  {
    label: '淘宝 · 未付款即取消',
    then: ['cancel'],
    order: fromTaobao(
      {
        tid: '4012345678909999999',
        buyer_nick: 'tb路人甲',
        receiver_name: '郑爽',
        receiver_mobile: '13566667777',
        receiver_state: '福建省',
        receiver_city: '厦门市',
        receiver_district: '思明区',
        receiver_address: '环岛南路 2899 号',
        post_fee: '8.00',
        created: today('08:01:00'),
        orders: [{ oid: '4012345678909999998', outer_sku_id: 'TEA-TIEGUANYIN-250', title: '安溪铁观音 250g', num: 1, price: '88.00' }],
      },
      'taobao-teahouse',
    ),
  },
];

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function post(path: string, body: unknown, key: string): Promise<Reply> {
  const res = await fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-actor-id': 'seed-demo', 'x-actor-role': 'system' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function waitReady(timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${BASE}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`order-intake at ${BASE} is not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Pads to a display width, counting CJK characters as two columns. */
function pad(text: string, width: number): string {
  const w = [...text].reduce((n, ch) => n + ((ch.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1), 0);
  return text + ' '.repeat(Math.max(1, width - w));
}

/** The REST body of a canonical submission (the server adds ids, totals and status). */
function restBody(o: OrderSubmission) {
  return o;
}

async function main(): Promise<void> {
  await waitReady();
  // Stock first: orders are reserved the moment they are paid, and without stock every demo
  // order would end in a shortage. Receipts are idempotent too.
  const stock = await seedInventory();
  process.stdout.write(`seeded stock: ${stock.skus} SKUs, ${stock.receipts} receipts\n`);
  const rows: string[][] = [];
  let failed = 0;
  for (const demo of DEMOS) {
    const o = demo.order;
    const key = `seed:${o.channel}:${o.channelOrderId}`;
    const placed = await post('/api/orders', restBody(o), key);
    if (placed.status !== 201 && placed.status !== 200) {
      failed++;
      rows.push([demo.label, o.channel, o.channelOrderId, '-', `refused ${placed.status} ${String(placed.body.code ?? placed.body.message)}`]);
      continue;
    }
    const orderId = String(placed.body.orderId);
    const total = (placed.body.totals as { grandTotal: number }).grandTotal;
    let stage = String(placed.body.stage);
    for (const action of demo.then) {
      const r =
        action === 'pay'
          ? await post(`/api/orders/${orderId}/payments`, { amount: total, paymentRef: `DEMO-${o.channelOrderId}` }, `${key}:pay`)
          : action === 'cancel'
            ? await post(`/api/orders/${orderId}/cancel`, { reason: '买家拍错，未付款取消' }, `${key}:cancel`)
            : action === 'hold'
              ? await post(`/api/orders/${orderId}/holds`, { reason: '收货地址门牌号缺失，客服联系买家核实' }, `${key}:hold`)
              : null;
      if (!r) continue;
      // 409 on a re-run means the order already moved past this step (e.g. held by a rule first).
      if (r.status === 200) stage = [String(r.body.stage), ...((r.body.flags as string[] | undefined) ?? [])].join(' + ');
      else if (r.status !== 409) {
        failed++;
        stage = `${action} refused ${r.status} ${String(r.body.code ?? '')}`;
      }
    }
    rows.push([demo.label, o.channel, o.channelOrderId, orderId, `${stage}  ¥${(total / 100).toFixed(2)}${placed.status === 200 ? '  (existed)' : ''}`]);
  }
  process.stdout.write(`\nDemo orders in order-intake (${BASE}):\n`);
  for (const r of rows) process.stdout.write(`  ${pad(r[0], 34)} ${r[1].padEnd(10)} ${r[2].padEnd(24)} ${r[3].padEnd(27)} ${r[4]}\n`);
  process.stdout.write(`\nBrowse them: ${BASE}/api/orders   API docs: ${BASE}/docs\n`);
  // Six months of seeded order history for the analytics charts and forecasts (minutes of work):
  // `DEMO_HISTORY=1 npm start`, or scripts/demo-history.ts on its own.
  if (process.env.DEMO_HISTORY === '1') {
    const h = await seedHistory();
    failed += h.failed;
  }
  if (failed > 0) {
    process.stderr.write(`${failed} demo request(s) failed\n`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`seed-demo failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
