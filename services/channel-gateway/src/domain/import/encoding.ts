/**
 * Which encoding a seller's export is in (BOM, else strict UTF-8 on the first 64 KB, else GB18030):
 * shared with analytics' settlement reader, so it lives in @flowline/imports.
 */
export { detectEncoding, SNIFF_BYTES, type FileEncoding } from '@flowline/imports';
