import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../infra/file-reader';
import { ProfileRegistry } from '../infra/profile-registry';
import type { ChannelStore } from './channel-store.port';
import { ImportService } from './import.service';
import type { OrderIntakePort } from './order-intake.port';

const F = join(__dirname, '../../test/fixtures');

describe('a file that does not fit the channel default layout', () => {
  it('is refused naming the profiles it does fit (a Tmall seller with the classic 订单报表 is told taobao-classic)', async () => {
    // Nothing is stored or placed before the columns are checked: store and order-intake stay unused.
    const service = new ImportService({ store: {} as ChannelStore, orderIntake: {} as OrderIntakePort, profiles: new ProfileRegistry(), readTable, now: () => new Date() });
    const file = { name: 'ExportOrderList.csv', bytes: readFileSync(join(F, 'taobao-classic-orders.gbk.csv')) };
    const refused = service.run({ channel: 'tmall', file });
    await expect(refused).rejects.toMatchObject({ code: 'IMPORT_COLUMNS_MISSING', details: { suggestedProfiles: ['taobao-classic'] } });
    await expect(service.run({ channel: 'tmall', file })).rejects.toThrow(/import it with profile taobao-classic/);
    // A profile chosen by the seller is taken at its word: no hint.
    await expect(service.run({ channel: 'tmall', file, profileId: 'taobao-current' })).rejects.not.toHaveProperty('details.suggestedProfiles');
  });
});

describe('a row without an order id', () => {
  it('is listed with its row number and no quarantine entry, and is not counted as an order', async () => {
    const csv = ['订单号,订单状态,订单成交时间,用户实付金额(元),商家编码-SKU维度,商品,商品数量(件),商品总价(元),收货人,手机,省,市,区,街道,详细地址',
      '231206-1,待发货,2026-12-05 10:03,128.00,TEA-1,龙井,1,128.00,吴九,13812345678,浙江省,杭州市,西湖区,文新街道,1号',
      ',待发货,2026-12-05 10:04,128.00,TEA-1,龙井,1,128.00,吴十,13812345679,浙江省,杭州市,西湖区,文新街道,2号'].join('\r\n');
    // A dry run stores nothing: the store only answers "not seen yet".
    const store = { findOrder: async () => null } as unknown as ChannelStore;
    const service = new ImportService({ store, orderIntake: {} as OrderIntakePort, profiles: new ProfileRegistry(), readTable, now: () => new Date() });
    const report = await service.run({ channel: 'pinduoduo', file: { name: 'pdd.csv', bytes: Buffer.from(csv) }, dryRun: true });
    expect(report).toMatchObject({ ordersSeen: 1, imported: 1, summaryRows: 0 });
    expect(report.rejected).toEqual([{ quarantineId: null, channelOrderId: null, rowNumbers: [3], reasons: [expect.objectContaining({ code: 'MISSING_FIELD', column: '订单号' })] }]);
  });
});

describe('the same export downloaded in another container', () => {
  it('an HTML table saved as .xls and tab-separated text map to the same orders as the CSV', async () => {
    const store = { findOrder: async () => null } as unknown as ChannelStore;
    const service = new ImportService({ store, orderIntake: {} as OrderIntakePort, profiles: new ProfileRegistry(), readTable, now: () => new Date() });
    const csvBytes = readFileSync(join(F, 'pinduoduo.gb18030.csv'));
    const { table } = await readTable(csvBytes, 'pdd.csv');
    const esc = (c: string) => c.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, '<br>');
    const html = `<html><body><table>${[table.headers, ...table.rows.map((r) => r.cells)].map((cells) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</table></body></html>`;
    const tsv = [table.headers, ...table.rows.map((r) => r.cells)].map((cells) => cells.map((c) => (/[\t\n"]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join('\t')).join('\r\n');
    const mapped = async (name: string, bytes: Buffer) => {
      const r = await service.run({ channel: 'pinduoduo', file: { name, bytes }, dryRun: true });
      return { ordersSeen: r.ordersSeen, imported: r.imported, rejected: r.rejected.map((x) => x.channelOrderId) };
    };
    const fromCsv = await mapped('pdd.csv', csvBytes);
    expect(fromCsv.ordersSeen).toBeGreaterThan(0);
    expect(await mapped('pdd-orders.xls', Buffer.from(html))).toEqual(fromCsv);
    expect(await mapped('pdd-orders.txt', Buffer.from(tsv))).toEqual(fromCsv);
  });
});

describe('a Taobao import without its two files', () => {
  const service = new ImportService({ store: {} as ChannelStore, orderIntake: {} as OrderIntakePort, profiles: new ProfileRegistry(), readTable, now: () => new Date() });
  const orders = { name: 'ExportOrderList.csv', bytes: readFileSync(join(F, 'taobao-classic-orders.gbk.csv')) };
  const items = { name: 'ExportOrderDetailList.csv', bytes: readFileSync(join(F, 'taobao-classic-items.gbk.csv')) };

  it('the 订单报表 alone: IMPORT_ITEMS_FILE_REQUIRED names the REST field `items` (and the CLI flag), in English and Chinese', async () => {
    const refused = service.run({ channel: 'taobao', file: orders });
    await expect(refused).rejects.toMatchObject({ code: 'IMPORT_ITEMS_FILE_REQUIRED', details: { field: 'items' } });
    const message = await service.run({ channel: 'taobao', file: orders }).catch((e: Error) => e.message);
    expect(message).toContain('send it as `items`');
    expect(message).toContain('--items');
    expect(message).toContain('宝贝报表');
    expect(message).toContain('接口字段 items');
    expect(message).not.toContain('itemsFile');
  });

  it('the 宝贝报表 alone (as the order file) is said to look like an items file, for the default and the named profile, on taobao and tmall', async () => {
    for (const req of [{ channel: 'taobao' as const }, { channel: 'taobao' as const, profileId: 'taobao-classic' }, { channel: 'tmall' as const }]) {
      const message = await service.run({ ...req, file: items }).catch((e: Error & { code?: string }) => `${e.code} ${e.message}`);
      expect(message).toMatch(/^IMPORT_COLUMNS_MISSING the order file looks like an items file \(宝贝报表\)/);
      expect(message).toContain('看起来是宝贝报表');
    }
  });
});
