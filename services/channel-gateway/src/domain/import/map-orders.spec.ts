import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '../../infra/file-reader';
import { ProfileRegistry } from '../../infra/profile-registry';
import { mapOrders, type MappingResult } from './map-orders';
import { parseAddress } from './address';
import { toSubmission } from './submission';

const F = join(__dirname, '../../../test/fixtures');
const registry = new ProfileRegistry();

async function mapFixture(profile: string, file: string, items?: string): Promise<MappingResult & { encoding: string }> {
  const t = await readTable(readFileSync(join(F, file)), file);
  const it = items ? await readTable(readFileSync(join(F, items)), items) : undefined;
  return { ...mapOrders(registry.get(profile), t.table, it?.table), encoding: t.encoding };
}

describe('mapping profiles on each platform layout (fixtures in their real encodings)', () => {
  let results: Record<string, MappingResult & { encoding: string }>;
  beforeAll(async () => {
    results = {
      tb: await mapFixture('taobao-classic', 'taobao-classic-orders.gbk.csv', 'taobao-classic-items.gbk.csv'),
      tm: await mapFixture('taobao-current', 'tmall-current.utf8-bom.csv'),
      jd: await mapFixture('jd', 'jd.xlsx'),
      pdd: await mapFixture('pinduoduo', 'pinduoduo.gb18030.csv'),
      dy: await mapFixture('douyin', 'douyin.utf8.csv'),
      sh: await mapFixture('shopify', 'shopify.utf8.csv'),
      pos: await mapFixture('offline-pos', 'offline-pos.utf8.csv'),
    };
  });

  it('Taobao classic (GBK): joins the items file, keeps the 19-digit id, skips the summary and the repeated row, keeps the multi-line message', () => {
    const r = results.tb;
    expect(r.encoding).toBe('gb18030');
    expect(r.stats).toEqual({ rowsRead: 6, blankRows: 0, summaryRows: 1, duplicateRows: 1 });
    const o = r.drafts[0];
    expect(o.channelOrderId).toBe('4012345678901234567');
    expect(o.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual([
      ['TEA-LJ-250', 2, 12800],
      ['TEA-SM-100', 1, 5990],
    ]);
    expect(o.money).toMatchObject({ goods: 31590, paid: 30590, orderDiscount: 1000 });
    expect(o.buyerMessage).toBe('请尽快发货?\n周末家里没人，工作日送');
    expect(o.address).toMatchObject({ province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路100号 华星大厦', regionCode: '330106' });
    expect(r.drafts.map((d) => d.state)).toEqual(['paid', 'unpaid', 'closed', 'closed']);
  });

  it('Tmall current layout (UTF-8 BOM): masked address flagged, region still coded, refund request read', () => {
    const [a, b] = results.tm.drafts;
    expect(a.pii).toEqual({ name: 'absent', phone: 'absent', address: 'masked' });
    expect(a.address).toMatchObject({ province: '江苏省', city: '南京市', district: '建邺区', street: '沙洲街道****', regionCode: '320105' });
    expect(a.lines.map((l) => l.lineId)).toEqual(['3318459620112233446', '3318459620112233447']);
    expect(b.afterSales).toBe('refund_requested');
    const sub = toSubmission(a);
    expect(sub.tags).toEqual(['pii:masked']);
    // No placeholders: the platform gave no name or phone (withheld), the street only masked.
    expect(sub.recipientProtection).toEqual({ masked: ['address'], encrypted: [], withheld: ['name', 'phone'] });
    expect(sub.shippingAddress).toMatchObject({ street: '沙洲街道****', recipient: '', phone: '' });
    expect(sub.customer.name).toBeUndefined();
  });

  it('JD (XLSX): one row per SKU grouped, masked phone flagged and not used as a phone, platform and shop discounts apart', () => {
    const o = results.jd.drafts[0];
    expect(o.lines).toHaveLength(2);
    expect(o.money).toMatchObject({ paid: 30090, platformDiscount: 500, shopDiscount: 1000, orderDiscount: 1500 });
    expect(o.pii.phone).toBe('masked');
    const sub = toSubmission(o);
    expect(sub.customer.phone).toBeUndefined();
    expect(sub.recipientProtection?.masked).toContain('phone');
    expect(sub.shippingAddress.phone).toBe(o.phone);
    expect(sub.shippingAddress.phone).toMatch(/^1\*+\d{4}$/);
    expect(o.address).toMatchObject({ province: '北京市', city: '北京市', district: '朝阳区' });
  });

  it('Pinduoduo (GB18030): characters outside GBK intact, full-width bracket header matched', () => {
    const o = results.pdd.drafts[0];
    expect(results.pdd.encoding).toBe('gb18030');
    expect(o.recipient).toBe('王䶮');
    expect(o.address?.detail).toContain('𠮷祥小区');
    expect(o.money).toMatchObject({ goods: 25600, paid: 24050, shopDiscount: 1000, platformDiscount: 550 });
    expect(results.pdd.drafts.map((d) => [d.state, d.afterSales])).toEqual([
      ['paid', 'none'],
      ['closed', 'none'],
      ['closed', 'refunded'],
    ]);
  });

  it('Douyin: tab-guarded ids, sub-orders as lines, ciphertext flagged and never copied into the order', () => {
    const o = results.dy.drafts[0];
    expect(o.channelOrderId).toBe('6931234567890123456');
    expect(o.lines.map((l) => l.lineId)).toEqual(['6931234567890123457', '6931234567890123458']);
    expect(o.pii).toEqual({ name: 'encrypted', phone: 'encrypted', address: 'encrypted' });
    const sub = toSubmission(o);
    expect(JSON.stringify(sub)).not.toMatch(/Zm9vYmFy|MTM4|YWRkcmVzcw/);
    expect(sub.tags).toEqual(['pii:encrypted']);
    expect(sub.recipientProtection).toEqual({ masked: [], encrypted: ['name', 'phone', 'address'], withheld: [] });
    // The street the platform gave in clear stays; the encrypted detail is left empty.
    expect(sub.shippingAddress).toMatchObject({ street: '西溪街道', detail: '', recipient: '', phone: '' });
  });

  it('Shopify: order fields from the first row only; offline POS receipts', () => {
    expect(results.sh.drafts.map((d) => [d.channelOrderId, d.lines.length, d.money.paid, d.state])).toEqual([
      ['#1001', 2, 31790, 'paid'],
      ['#1002', 1, 12800, 'closed'],
      ['#1003', 1, 5990, 'unpaid'],
    ]);
    expect(results.pos.drafts.map((d) => [d.channelOrderId, d.lines.length, d.money.paid, d.state])).toEqual([
      ['POS-20251201-0001', 2, 17990, 'paid'],
      ['POS-20251201-0002', 1, 11980, 'closed'],
    ]);
  });

  it('auto-ingest rate of all the clean fixtures is 100% (18 of 18 orders mapped with no person)', () => {
    const all = Object.values(results);
    expect(all.reduce((n, r) => n + r.drafts.length, 0)).toBe(18);
    expect(all.reduce((n, r) => n + r.rejected.length, 0)).toBe(0);
  });
});

describe('order types the platforms send', () => {
  it('keeps a gift line at zero price, and the platform-subsidised discount apart from the shop discount', () => {
    const p = registry.get('douyin');
    const headers = ['主订单编号', '子订单编号', '选购商品', '商品数量', '商家编码', '商品单价', '订单应付金额', '运费', '平台优惠', '商家优惠', '收件人', '收件人手机号', '省', '市', '区', '街道', '详细地址', '订单状态', '订单提交时间', '支付完成时间'];
    const row = (sub: string, title: string, sku: string, price: string) => ['\t6931', `\t${sub}`, title, '1', sku, price, '118.00', '0.00', '6.00', '4.00', '李*', '138****5678', '浙江省', '杭州市', '西湖区', '', '文三路****', '待发货', '2025-12-01 10:00:00', '2025-12-01 10:00:05'];
    const r = mapOrders(p, { headers, rows: [{ rowNumber: 2, cells: row('69311', '明前龙井 250g', 'TEA-LJ-250', '128.00') }, { rowNumber: 3, cells: row('69312', '【赠品】茶具', 'GIFT-CUP', '0.00') }] });
    expect(r.rejected).toEqual([]);
    const d = r.drafts[0];
    expect(d.lines.map((l) => [l.sku, l.unitPrice])).toEqual([
      ['TEA-LJ-250', 12800],
      ['GIFT-CUP', 0],
    ]);
    expect(d.money).toMatchObject({ goods: 12800, paid: 11800, orderDiscount: 1000, platformDiscount: 600, shopDiscount: 400 });
  });
});

describe('addresses', () => {
  it('splits with national region codes and never guesses an unknown one', () => {
    expect(parseAddress('广东省深圳市南山区粤海街道科技园路1号')).toMatchObject({ province: '广东省', city: '深圳市', district: '南山区', street: '粤海街道科技园路1号', regionCode: '440305' });
    expect(parseAddress('火星 奥林匹斯山 1号')).toBeNull();
  });

  it('takes county-level cities governed by the province (仙桃, 济源, 石河子, 文昌) as cities', () => {
    expect(parseAddress('湖北省 仙桃市 干河街道 仙桃大道1号(433000)')).toMatchObject({ province: '湖北省', city: '仙桃市', district: '', street: '干河街道 仙桃大道1号', regionCode: '429004' });
    expect(parseAddress('河南省 济源市 沁园街道 济水大街2号')).toMatchObject({ province: '河南省', city: '济源市', district: '', regionCode: '419001' });
    expect(parseAddress('新疆维吾尔自治区 石河子市 北泉镇 3号')).toMatchObject({ province: '新疆维吾尔自治区', city: '石河子市', regionCode: '659001' });
    expect(parseAddress('海南省 文昌市 文城镇 4号')).toMatchObject({ province: '海南省', city: '文昌市' });
    // A city without districts (东莞) keeps the rest as the street.
    expect(parseAddress('广东省 东莞市 南城街道 5号')).toMatchObject({ province: '广东省', city: '东莞市', district: '', street: '南城街道 5号', regionCode: '441900' });
  });

  it('Hong Kong, Macau and Taiwan: a district the data set lacks leaves the address at the province', () => {
    expect(parseAddress('香港特别行政区 九龙城区 太子道西 1号')).toMatchObject({ province: '香港特别行政区', district: '九龙城区', regionCode: '810007' });
    expect(parseAddress('香港特别行政区 九龙 弥敦道 100号')).toMatchObject({ province: '香港特别行政区', city: '香港特别行政区', district: '', street: '九龙 弥敦道 100号', regionCode: '810000' });
    expect(parseAddress('台湾省 台北市 信义区 市府路1号')).toMatchObject({ province: '台湾省', district: '', street: '台北市 信义区 市府路1号', regionCode: '710000' });
    // A mainland municipality still needs a district it knows.
    expect(parseAddress('北京市 火星区 1号')).toBeNull();
  });
});

describe('rows a spreadsheet or a platform made ambiguous are refused, never merged or dropped', () => {
  const table = (headers: string[], rows: string[][]) => ({ headers, rows: rows.map((cells, i) => ({ rowNumber: i + 2, cells })) });
  const DY = ['主订单编号', '子订单编号', '选购商品', '商家编码', '商品数量', '商品单价', '订单应付金额', '运费', '收件人', '收件人手机号', '省', '市', '区', '街道', '详细地址', '订单提交时间', '支付完成时间', '订单状态', '售后状态'];
  const dyRow = (id: string, sub: string, sku: string, price: string, paid: string, who: string, status = '待发货', after = '-') =>
    [id, sub, `茶 ${sku}`, sku, '1', price, paid, '0', who, '13812345678', '浙江省', '杭州市', '西湖区', '文新街道', '文三路1号', '2026/12/05 10:03:22', '2026/12/05 10:04:00', status, after];

  it('an order id Excel turned into scientific notation: the whole group refused as MANGLED_ID', () => {
    const r = mapOrders(registry.get('douyin'), table(DY, [dyRow('6.91156E+18', '1', 'A', '59.90', '59.90', '孙八'), dyRow('6.91156E+18', '2', 'B', '128.00', '128.00', '周九')]));
    expect(r.drafts).toEqual([]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]).toMatchObject({ channelOrderId: '6.91156E+18', rowNumbers: [2, 3], reasons: [{ code: 'MANGLED_ID', column: '主订单编号' }] });
    expect(r.rejected[0]?.reasons[0]?.zh).toContain('科学计数法');
  });

  it('rows of one order naming different recipients are CONFLICTING_ROWS with their row numbers', () => {
    const r = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000001', '69115600000000000011', 'A', '59.90', '187.90', '孙八'), dyRow('6911560000000000001', '69115600000000000012', 'B', '128.00', '187.90', '周九')]));
    expect(r.drafts).toEqual([]);
    expect(r.rejected[0]?.reasons).toContainEqual(expect.objectContaining({ code: 'CONFLICTING_ROWS', column: '收件人', en: expect.stringContaining('rows 2, 3') }));
  });

  it('a line id that repeats within one order is named, not left to the order flow', () => {
    const r = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000002', '6.91156E+19', 'A', '59.90', '187.90', '孙八'), dyRow('6911560000000000002', '6.91156E+19', 'B', '128.00', '187.90', '孙八')]));
    expect(r.rejected[0]?.reasons.map((x) => x.code)).toEqual(['MANGLED_ID', 'MANGLED_ID']);
    const dup = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000003', '77', 'A', '59.90', '187.90', '孙八'), dyRow('6911560000000000003', '77', 'B', '128.00', '187.90', '孙八')]));
    expect(dup.rejected[0]?.reasons).toEqual([expect.objectContaining({ code: 'CONFLICTING_ROWS', column: '子订单编号', zh: expect.stringContaining('第 2、3 行') })]);
  });

  it('Douyin lines in different states (one refunded, one to ship) wait in the quarantine: the refunded line is not shipped', () => {
    const r = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000004', '69115600000000000041', 'A', '59.90', '187.90', '孙八'), dyRow('6911560000000000004', '69115600000000000042', 'B', '128.00', '187.90', '孙八', '已关闭', '退款成功')]));
    expect(r.drafts).toEqual([]);
    expect(r.rejected[0]?.reasons).toEqual([expect.objectContaining({ code: 'LINE_STATES_DIFFER', zh: expect.stringContaining('第 3 行 已关闭/退款成功') })]);
    // Lines in one state still import as one order.
    const same = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000005', '69115600000000000051', 'A', '59.90', '187.90', '孙八'), dyRow('6911560000000000005', '69115600000000000052', 'B', '128.00', '187.90', '孙八')]));
    expect(same.rejected).toEqual([]);
    expect(same.drafts[0]?.lines).toHaveLength(2);
  });

  it("a 商家编码 no service could stock (a line break inside, over 64 characters) is BAD_SKU; real codes with Chinese, `/` and `*` pass, fullwidth ones as ASCII", () => {
    const ok = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000006', '69115600000000000061', 'A01/红色/XL', '59.90', '187.90', '孙八'), dyRow('6911560000000000006', '69115600000000000062', 'ＬＪ２５０＊２\u3000', '128.00', '187.90', '孙八')]));
    expect(ok.rejected).toEqual([]);
    expect(ok.drafts[0]?.lines.map((l) => l.sku)).toEqual(['A01/红色/XL', 'LJ250*2']);
    const bad = mapOrders(registry.get('douyin'), table(DY, [dyRow('6911560000000000007', '69115600000000000071', 'A01\nXL', '59.90', '187.90', '孙八'), dyRow('6911560000000000007', '69115600000000000072', 'X'.repeat(65), '128.00', '187.90', '孙八')]));
    expect(bad.drafts).toEqual([]);
    expect(bad.rejected[0]?.reasons).toEqual([
      expect.objectContaining({ code: 'BAD_SKU', column: '商家编码', zh: expect.stringContaining('换行') }),
      expect.objectContaining({ code: 'BAD_SKU', column: '商家编码', en: expect.stringContaining('at most 64') }),
    ]);
  });

  it('a row without an order id is rejected with its row number; a 合计 row is still a summary', () => {
    const headers = ['订单号', '订单状态', '订单成交时间', '用户实付金额(元)', '商家编码-SKU维度', '商品', '商品数量(件)', '商品总价(元)', '收货人', '手机', '省', '市', '区', '街道', '详细地址'];
    const row = (id: string, who: string) => [id, '待发货', '2026-12-05 10:03', '128.00', 'TEA-1', '龙井', '1', '128.00', who, '13812345678', '浙江省', '杭州市', '西湖区', '文新街道', '1号'];
    const r = mapOrders(registry.get('pinduoduo'), table(headers, [row('231206-1', '吴九'), row('', '吴十'), ['合计', '', '', '256.00', '', '', '2', '256.00', '', '', '', '', '', '', '']]));
    expect(r.drafts.map((d) => d.channelOrderId)).toEqual(['231206-1']);
    expect(r.stats.summaryRows).toBe(1);
    expect(r.rejected).toEqual([expect.objectContaining({ channelOrderId: null, rowNumbers: [3], reasons: [expect.objectContaining({ code: 'MISSING_FIELD', column: '订单号' })] })]);
  });

  it('Pinduoduo v3: today\'s status words, and the placed time from 支付时间 when the export has no 订单成交时间', () => {
    const headers = ['订单号', '订单状态', '支付时间', '用户实付金额(元)', '商家编码-SKU维度', '商品', '商品数量(件)', '商品总价(元)', '收货人', '手机', '省', '市', '区', '街道', '详细地址', '快递单号', '快递公司'];
    const row = (id: string, status: string) => [id, status, '2026-12-05 10:03:00', '128.00', 'TEA-1', '龙井', '1', '128.00', '吴九', '13812345678', '浙江省', '杭州市', '西湖区', '文新街道', '1号', 'YT123', '圆通'];
    const r = mapOrders(registry.get('pinduoduo'), table(headers, [row('231206-2', '已发货，待签收'), row('231206-3', '已发货，退款成功'), row('231206-4', '未发货，退款成功')]));
    expect(r.rejected).toEqual([]);
    expect(r.drafts.map((d) => [d.state, d.placedAt])).toEqual([
      ['shipped', expect.stringMatching(/^2026-12-05T0\d:03:00/)],
      ['closed', expect.any(String)],
      ['closed', expect.any(String)],
    ]);
  });
});
