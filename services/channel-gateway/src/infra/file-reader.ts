/** Decoding and parsing of a seller's export (CSV in its encodings, or XLSX) to rows: @flowline/imports. */
export { decodeText, readTable, type ReadFile } from '@flowline/imports';
