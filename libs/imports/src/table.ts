import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { DomainError } from '@flowline/domain';
import type ExcelJS from 'exceljs';
import { decodeText, type FileEncoding } from './encoding';
import { loadExcelJs } from './excel';
import { HtmlTableTooLarge, readHtmlTable } from './html-table';

/** A file's rows after decoding and parsing (CSV or XLSX), before any mapping. */
export interface Table {
  headers: string[];
  /** rowNumber is the 1-based line of the row in the sheet as a person sees it (header = 1). */
  rows: { rowNumber: number; cells: string[] }[];
}

export interface ReadFile {
  table: Table;
  /** `html`: an HTML table saved as .xls; `csv` also covers tab-separated text. */
  format: 'csv' | 'xlsx' | 'html';
  encoding: FileEncoding | 'xlsx';
  bom: boolean;
}

const isZip = (b: Uint8Array) => b.length > 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
/** An OLE2 compound file: a legacy Excel 97-2003 workbook (.xls, BIFF8), or another Office 97 document. */
const isOle2 = (b: Uint8Array) => b.length >= 8 && [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1].every((x, i) => b[i] === x);

/**
 * The field separator of a text export, from its first non-empty line: a tab when that line holds
 * more separating tabs than commas (Excel's "Unicode text" and many "xls" downloads are
 * tab-separated), else a comma. A tab next to a comma or at either end of the line pads a cell
 * (`\t订单号,\t商品`) and separates nothing; quotes count only around a whole cell (`""` inside
 * one is a quote); a line without either (a title) is skipped.
 */
export function delimiterOf(text: string): ',' | '\t' {
  const sample = text.slice(0, 64 * 1024);
  let tabs = 0;
  let commas = 0;
  let quoted = false;
  let prev = '';
  for (let i = 0; i < sample.length; i++) {
    const ch = sample[i];
    if (quoted) {
      if (ch === '"' && sample[i + 1] === '"') i++; // an escaped quote inside a quoted cell
      else if (ch === '"') quoted = false;
    } else if (ch === '"' && (prev === '' || prev === ',' || prev === '\t')) quoted = true;
    else if (ch === '\n' || ch === '\r') {
      // A title line above the header separates nothing: look at the next line.
      if (tabs + commas > 0) break;
      prev = '';
      continue;
    } else if (ch === ',') commas++;
    else if (ch === '\t') {
      const next = sample[i + 1] ?? '\n';
      if (prev !== '' && prev !== ',' && next !== ',' && next !== '\r' && next !== '\n') tabs++;
    }
    prev = ch;
  }
  return tabs > commas ? '\t' : ',';
}

const unreadable = (fileName: string, why: string) => new DomainError('IMPORT_FILE_UNREADABLE', `${fileName}: ${why}`, { file: fileName }, 'invalid');

/**
 * Reads a seller's export into a header and rows, cells as text:
 * - XLSX (first worksheet);
 * - CSV in any of the encodings exports come in, comma- or tab-separated (quoted multi-line cells;
 *   rows of uneven length);
 * - an HTML table saved as .xls (many back offices' "Excel" download);
 * - refused with what to do instead: a legacy Excel 97-2003 workbook (.xls) and Excel's XML
 *   Spreadsheet 2003, which no maintained reader here opens (save them as .xlsx or CSV).
 */
export async function readTable(bytes: Buffer, fileName = 'file'): Promise<ReadFile> {
  if (isZip(bytes) || /\.xlsx$/i.test(fileName)) return { table: await readXlsx(bytes, fileName), format: 'xlsx', encoding: 'xlsx', bom: false };
  if (isOle2(bytes)) {
    throw unreadable(fileName, 'a legacy Excel 97-2003 workbook (.xls) cannot be read here: open it in Excel or WPS, save it as .xlsx (Excel workbook) or CSV, and import that file (旧版 .xls 无法读取：请用 Excel/WPS 另存为 .xlsx 或 CSV 后再导入)');
  }
  const decoded = decodeText(bytes);
  const { bom } = decoded;
  let { text, encoding } = decoded;
  const head = text.slice(0, 4096).trimStart().toLowerCase();
  if (head.startsWith('<')) {
    // A page that declares GBK but whose first 64 KB is plain ASCII (a long <style>) passed the UTF-8 sniff.
    const sniffed = text.slice(0, 64 * 1024);
    if (encoding === 'utf-8' && !bom && !/[^ -~\t\r\n]/.test(sniffed) && /<meta[^>]*charset\s*=\s*["']?\s*(gbk|gb2312|gb18030)/i.test(sniffed)) {
      text = iconv.decode(bytes, 'gb18030');
      encoding = 'gb18030';
    }
    if (head.includes('urn:schemas-microsoft-com:office:spreadsheet') && !/<tr[\s>]/.test(text.slice(0, 256 * 1024).toLowerCase())) {
      throw unreadable(fileName, 'an Excel XML Spreadsheet 2003 file cannot be read here: open it in Excel or WPS, save it as .xlsx or CSV, and import that file (请另存为 .xlsx 或 CSV 后再导入)');
    }
    let table: Table | null;
    try {
      table = readHtmlTable(text);
    } catch (e) {
      if (e instanceof HtmlTableTooLarge) throw unreadable(fileName, e.message);
      throw e;
    }
    if (table) return { table, format: 'html', encoding, bom };
    if (/^<(!doctype|html|head|body|\?xml)/.test(head)) throw new DomainError('IMPORT_FILE_EMPTY', `${fileName}: an HTML page without a table row`, { file: fileName }, 'invalid');
  }
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: false, bom: true, relax_quotes: true, delimiter: delimiterOf(text) }) as string[][];
  } catch (e) {
    throw unreadable(fileName, `not a CSV file: ${(e as Error).message}`);
  }
  // Row numbers count records (a quoted multi-line message is one row), header = 1, as a spreadsheet shows them.
  const numbered = records.map((cells, i) => ({ rowNumber: i + 1, cells })).filter((r) => !(r.cells.length === 1 && r.cells[0] === ''));
  if (numbered.length === 0) throw new DomainError('IMPORT_FILE_EMPTY', `${fileName} has no header row`, { file: fileName }, 'invalid');
  const [header, ...rows] = numbered;
  return {
    table: { headers: header.cells, rows },
    format: 'csv',
    encoding,
    bom,
  };
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    // Excel stores wall-clock time without a zone; exceljs reads it as UTC. Keep the wall clock.
    return v.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
  }
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('result' in v) return cellText((v as { result?: ExcelJS.CellValue }).result ?? null);
    if ('text' in v) return String((v as { text: unknown }).text);
    if ('error' in v) return '';
  }
  if (typeof v === 'number') return numberText(v);
  return String(v);
}

/**
 * A number cell as people read it. A fraction at Excel's 15 significant digits, so a formula's
 * binary noise is gone (3 x 19.90 is "59.7", not "59.699999999999996"). An integer up to 2^53
 * exactly as stored (a 16-digit id stays whole). An integer beyond 2^53 (a 19-digit order id
 * typed into a number cell, its last digits already lost) in scientific notation
 * ("6.91156412345679E+18"), which the importers refuse as a mangled id rather than taking a
 * wrong id that merely looks right.
 */
export function numberText(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  // Integers up to 2^53 are exact (a 16-digit id written by an exporter that keeps full precision).
  if (Number.isSafeInteger(v)) return String(v);
  if (Number.isInteger(v)) return v.toPrecision(15).replace(/\.?0+e/, 'e').toUpperCase();
  return String(Number(v.toPrecision(15)));
}

async function readXlsx(bytes: Buffer, fileName: string): Promise<Table> {
  const wb = new (loadExcelJs().Workbook)();
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (e) {
    throw new DomainError('IMPORT_FILE_UNREADABLE', `${fileName}: not an XLSX file: ${(e as Error).message}`, { file: fileName }, 'invalid');
  }
  const ws = wb.worksheets[0];
  if (!ws) throw new DomainError('IMPORT_FILE_EMPTY', `${fileName} has no worksheet`, { file: fileName }, 'invalid');
  const grid: { rowNumber: number; cells: string[] }[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    for (let c = 1; c <= ws.columnCount; c++) cells.push(cellText(row.getCell(c).value));
    grid.push({ rowNumber, cells });
  });
  if (grid.length === 0) throw new DomainError('IMPORT_FILE_EMPTY', `${fileName} has no header row`, { file: fileName }, 'invalid');
  const [header, ...rows] = grid;
  return { headers: header.cells, rows };
}
