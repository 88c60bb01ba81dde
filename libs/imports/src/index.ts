/**
 * @flowline/imports: reading the files sellers download from their platforms (order exports,
 * settlement bills) into text rows, shared by channel-gateway's order import and analytics'
 * settlement reader. Encoding (BOM, strict UTF-8 on the first 64 KB, else GB18030), CSV / XLSX to
 * rows, Excel-guarded ids, yuan text to integer fen. No mapping to any domain: callers do that.
 */
export { decodeText, detectEncoding, SNIFF_BYTES, type FileEncoding } from './encoding';
export { cleanCell, yuanToFen, type AmountRead } from './cells';
export { delimiterOf, readTable, type ReadFile, type Table } from './table';
export { loadExcelJs } from './excel';
