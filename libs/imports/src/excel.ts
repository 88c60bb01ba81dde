import { createRequire } from 'node:module';
import type ExcelJS from 'exceljs';

let loaded: typeof ExcelJS | undefined;

/**
 * exceljs, required on first use instead of at import: it brings ~150 modules (jszip, pako,
 * archiver, unzipper, bluebird, async, saxes, ...) and ~8 MiB of V8 heap into every process that
 * imports this lib, while only an XLSX upload or export needs it (issue #10 item 6: channel-gateway
 * and analytics idled above 150 MiB RSS with it loaded).
 */
export function loadExcelJs(): typeof ExcelJS {
  return (loaded ??= createRequire(__filename)('exceljs') as typeof ExcelJS);
}
