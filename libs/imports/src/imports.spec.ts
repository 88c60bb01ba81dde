import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { cleanCell, decodeText, delimiterOf, detectEncoding, readTable, SNIFF_BYTES, yuanToFen } from './index';

describe('encoding of a platform file', () => {
  it('a BOM decides, else strict UTF-8, else GB18030', () => {
    expect(decodeText(Buffer.from('\uFEFF订单编号', 'utf8'))).toEqual({ text: '订单编号', encoding: 'utf-8', bom: true });
    expect(decodeText(Buffer.from('订单编号', 'utf8'))).toEqual({ text: '订单编号', encoding: 'utf-8', bom: false });
    expect(decodeText(iconv.encode('商户订单号,收入金额（+元）', 'gb18030'))).toEqual({ text: '商户订单号,收入金额（+元）', encoding: 'gb18030', bom: false });
    expect(detectEncoding(Buffer.from([0xff, 0xfe, 0x41, 0x00]))).toEqual({ encoding: 'utf-16le', bom: true });
  });

  it('reads only the first 64 KB: a character cut at the boundary is still UTF-8', () => {
    const head = Buffer.alloc(SNIFF_BYTES - 1, 0x61);
    const bytes = Buffer.concat([head, Buffer.from('订', 'utf8')]);
    expect(detectEncoding(bytes).encoding).toBe('utf-8');
    // GBK bytes past the sniffed part do not change the verdict (the rule is the first 64 KB).
    expect(detectEncoding(Buffer.concat([Buffer.alloc(SNIFF_BYTES, 0x61), iconv.encode('订单', 'gb18030')])).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.concat([iconv.encode('订单', 'gb18030'), Buffer.alloc(SNIFF_BYTES, 0x61)])).encoding).toBe('gb18030');
  });
});

describe('cells', () => {
  it('removes the Excel guards of long ids, keeping them as text', () => {
    expect(['="4012345678901234567"', "'4012345678901234567", '\t4012345678901234567', '4012345678901234567\t', ' 12 '].map(cleanCell)).toEqual([
      '4012345678901234567', '4012345678901234567', '4012345678901234567', '4012345678901234567', '12',
    ]);
  });

  it('yuan text -> integer fen exactly, signed; more than 2 decimals refused', () => {
    expect(['128.00', '0.1', '-1,280.5', '¥12', '￥0.77', 'CNY 3', '', '-'].map((t) => yuanToFen(t))).toEqual(
      [12800, 10, -128050, 1200, 77, 300, 0, 0].map((value) => ({ ok: true, value })),
    );
    expect(yuanToFen('12.345')).toEqual({ ok: false, reason: { code: 'BAD_AMOUNT', detail: '12.345' } });
  });
});

describe('readTable', () => {
  it('a GB18030 CSV with a quoted multi-line cell: header + rows numbered as a spreadsheet shows them', async () => {
    const csv = iconv.encode('订单号,留言\n1001,"第一行\n第二行"\n\n1002,好\n', 'gb18030');
    const r = await readTable(csv, 'tb.csv');
    expect(r).toMatchObject({ format: 'csv', encoding: 'gb18030', bom: false });
    expect(r.table).toEqual({ headers: ['订单号', '留言'], rows: [{ rowNumber: 2, cells: ['1001', '第一行\n第二行'] }, { rowNumber: 4, cells: ['1002', '好'] }] });
  });

  it('an XLSX: the first worksheet, cells as text', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('订单');
    ws.addRow(['订单号', '金额']);
    ws.addRow(['4012345678901234567', 12.5]);
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());
    const r = await readTable(bytes, 'jd.xlsx');
    expect(r).toMatchObject({ format: 'xlsx', encoding: 'xlsx' });
    expect(r.table).toEqual({ headers: ['订单号', '金额'], rows: [{ rowNumber: 2, cells: ['4012345678901234567', '12.5'] }] });
  });

  it('XLSX number cells read as Excel shows them: formula noise rounded, an id beyond 2^53 in scientific notation', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('订单');
    ws.addRow(['订单号', '应付金额', '数量']);
    // A 19-digit id typed into a number cell (its last digits already lost) and 3 x 19.90 by formula.
    ws.addRow([Number("6911564123456789012"), { formula: '3*19.9', result: 3 * 19.9 }, 3]);
    const r = await readTable(Buffer.from(await wb.xlsx.writeBuffer()), 'jd.xlsx');
    expect(r.table.rows[0]?.cells).toEqual(['6.91156412345679E+18', '59.7', '3']);
    // A 16-digit id below 2^53 stays exact (an exporter that writes ids as numbers at full precision).
    const wb2 = new ExcelJS.Workbook();
    wb2.addWorksheet('订单').addRows([['订单号'], [1234567890123456]]);
    expect((await readTable(Buffer.from(await wb2.xlsx.writeBuffer()), 'ks.xlsx')).table.rows[0]?.cells).toEqual(['1234567890123456']);
  });

  it('a tab-separated export (Excel "Unicode text": UTF-16LE with a BOM) is split on tabs; commas inside cells stay', async () => {
    const tsv = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('订单号\t收货地址\t金额\r\n1001\t浙江省,杭州市\t1,299.00\r\n', 'utf-16le')]);
    const r = await readTable(tsv, 'orders.txt');
    expect(r).toMatchObject({ format: 'csv', encoding: 'utf-16le', bom: true });
    expect(r.table).toEqual({ headers: ['订单号', '收货地址', '金额'], rows: [{ rowNumber: 2, cells: ['1001', '浙江省,杭州市', '1,299.00'] }] });
    expect(delimiterOf('a,b\tc,d\n1\t2\t3\t4')).toBe(',');
    expect(delimiterOf('"x,y,z"\tb\n')).toBe('\t');
    // Tabs padding the cells of a comma CSV (Douyin's guard) separate nothing; a quote inside a cell is no quote.
    expect(delimiterOf('\t订单号,\t商品,\t金额\r\n\t1001,\tA,\t9.90')).toBe(',');
    expect(delimiterOf('订单号\t,商品\t,金额\t\n')).toBe(',');
    expect(delimiterOf('规格5"\t颜色\t尺码\n')).toBe('\t');
    expect(delimiterOf('\n\n订单号\t收货地址\t金额\n')).toBe('\t');
    expect(delimiterOf('订单导出\n订单号\t金额\n')).toBe('\t'); // a title line above the header
    expect(delimiterOf('"尺寸""cm"", 宽"\t数量\t金额\n')).toBe('\t'); // "" inside a quoted cell
    expect(delimiterOf('订单号\t\t金额\t数量\n')).toBe('\t'); // an empty header cell
  });

  it('an HTML table saved as .xls (a back office\'s "Excel" download, GBK): the table with most rows, cells as Excel shows them', async () => {
    const html = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><style>td{mso-number-format:"\\@"}</style></head><body>
      <table><tr><td colspan="3">订单导出 2026-12-01</td></tr></table>
      <table border="1">
        <thead><tr><th>订单编号</th><th>买家留言</th><th>实付金额</th></tr></thead>
        <tbody>
          <tr><td>3318459620112233445</td><td>请  尽快<br/>发货&nbsp;谢谢</td><td>59.70</td></tr>
          <tr><td></td><td></td><td></td></tr>
          <tr><td colspan="2">3318459620112233446</td><td>&yen;10.00</td></tr>
        </tbody>
      </table></body></html>`;
    const r = await readTable(iconv.encode(html, 'gbk'), 'ExportOrders.xls');
    expect(r).toMatchObject({ format: 'html', encoding: 'gb18030' });
    expect(r.table).toEqual({
      headers: ['订单编号', '买家留言', '实付金额'],
      rows: [
        { rowNumber: 3, cells: ['3318459620112233445', '请 尽快\n发货 谢谢', '59.70'] },
        { rowNumber: 5, cells: ['3318459620112233446', '', '¥10.00'] },
      ],
    });
  });

  it('an HTML page declaring GBK whose first 64 KB is plain ASCII is still read as GBK', async () => {
    const html = `<html><head><meta charset="gbk"><style>${'td{mso-number-format:"\\@"}\n'.repeat(4000)}</style></head><body><table><tr><td>订单号</td><td>商品</td></tr><tr><td>1</td><td>龙井</td></tr></table></body></html>`;
    const r = await readTable(iconv.encode(html, 'gbk'), 'orders.xls');
    expect(r).toMatchObject({ format: 'html', encoding: 'gb18030' });
    expect(r.table.headers).toEqual(['订单号', '商品']);
    expect(r.table.rows[0]?.cells).toEqual(['1', '龙井']);
  });

  it('an HTML table with an order cell merged down over its item rows (rowspan): each item row carries the order, columns stay in place', async () => {
    const html = `<table>
      <tr><td>订单号</td><td>商品编码</td><td>数量</td><td>备注</td></tr>
      <tr><td rowspan="2">1001</td><td>SKU-A</td><td>1</td><td rowspan="3">加急</td></tr>
      <tr><td>SKU-B</td><td>2</td></tr>
      <tr><td>1002</td><td colspan="2">SKU-C</td></tr>
      <tr><td>1003</td><td>SKU-D</td><td>4</td></tr>
    </table>`;
    const r = await readTable(Buffer.from(html), 'orders.xls');
    expect(r.table.rows.map((x) => x.cells)).toEqual([
      ['1001', 'SKU-A', '1', '加急'],
      ['1001', 'SKU-B', '2', '加急'],
      ['1002', 'SKU-C', '', '加急'],
      ['1003', 'SKU-D', '4'],
    ]);
  });

  it('HTML merges stay in their thead / tbody; a table spanning past 1,000 columns is refused, not expanded', async () => {
    const html = '<table><thead><tr><th rowspan="2">订单号</th><th>金额</th></tr></thead><tbody><tr><td>1001</td><td>9.9</td></tr></tbody></table>';
    expect((await readTable(Buffer.from(html), 'o.xls')).table).toEqual({ headers: ['订单号', '金额'], rows: [{ rowNumber: 2, cells: ['1001', '9.9'] }] });
    const wide = `<table><tr>${'<td colspan="100" rowspan="9999">x</td>'.repeat(20)}</tr>${'<tr></tr>'.repeat(50)}</table>`;
    await expect(readTable(Buffer.from(wide), 'bomb.xls')).rejects.toMatchObject({ code: 'IMPORT_FILE_UNREADABLE' });
  });

  it('a legacy Excel 97-2003 workbook and an XML Spreadsheet 2003 are refused saying to save them as .xlsx or CSV, not misread as CSV', async () => {
    const ole2 = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(2048)]);
    await expect(readTable(ole2, 'jd-orders.xls')).rejects.toMatchObject({ code: 'IMPORT_FILE_UNREADABLE', message: expect.stringMatching(/Excel 97-2003.*\.xlsx/) });
    const xml = '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table><Row><Cell><Data ss:Type="String">订单号</Data></Cell></Row></Table></Worksheet></Workbook>';
    await expect(readTable(Buffer.from(xml), 'orders.xls')).rejects.toMatchObject({ code: 'IMPORT_FILE_UNREADABLE', message: expect.stringMatching(/XML Spreadsheet 2003/) });
    await expect(readTable(Buffer.from('<html><body><p>登录已过期</p></body></html>'), 'orders.xls')).rejects.toMatchObject({ code: 'IMPORT_FILE_EMPTY' });
  });

  it('an empty file is refused with a code', async () => {
    await expect(readTable(Buffer.from(''), 'empty.csv')).rejects.toMatchObject({ code: 'IMPORT_FILE_EMPTY' });
  });
});
