import { createRequire } from 'node:module';
import type * as Parse5 from 'parse5';
import type { Table } from './table';

let loaded: typeof Parse5 | undefined;
/** parse5, required on first use (only an HTML upload needs it), as exceljs is. */
function loadParse5(): typeof Parse5 {
  return (loaded ??= createRequire(__filename)('parse5') as typeof Parse5);
}

/** The parts of parse5's default tree this reader walks. */
interface Node {
  nodeName: string;
  value?: string;
  attrs?: { name: string; value: string }[];
  childNodes?: Node[];
  content?: Node;
}

const children = (n: Node): Node[] => n.childNodes ?? n.content?.childNodes ?? [];

/** Every table in the page, nested ones included (a layout table may wrap the data). */
function tablesIn(n: Node, out: Node[] = []): Node[] {
  for (const c of children(n)) {
    if (c.nodeName === 'table') out.push(c);
    tablesIn(c, out);
  }
  return out;
}

/** A table's own rows (through thead / tbody / tfoot), not those of a table nested in a cell. */
function rowElements(n: Node, out: Node[] = []): Node[] {
  for (const c of children(n)) {
    if (c.nodeName === 'tr') out.push(c);
    else if (c.nodeName !== 'table') rowElements(c, out);
  }
  return out;
}

/** A cell's text as a spreadsheet shows it: markup whitespace collapsed, `<br>` a line break, `&nbsp;` a space. */
function cellText(n: Node): string {
  const parts: string[] = [];
  const walk = (x: Node) => {
    for (const c of children(x)) {
      if (c.nodeName === '#text') parts.push((c.value ?? '').replace(/[\s\u00a0]+/g, ' '));
      else if (c.nodeName === 'br') parts.push('\n');
      else if (c.nodeName !== '#comment' && c.nodeName !== 'style' && c.nodeName !== 'script') walk(c);
    }
  };
  walk(n);
  return parts
    .join('')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .trim();
}

/** Rows of one table, a cell per td/th (colspan repeated as empty cells), numbered from 1 as Excel shows them. */
function rowsOf(table: Node): string[][] {
  return rowElements(table).map((tr) =>
    children(tr)
      .filter((c) => c.nodeName === 'td' || c.nodeName === 'th')
      .flatMap((cell) => {
        const span = Math.min(Math.max(Number(cell.attrs?.find((a) => a.name === 'colspan')?.value ?? 1) || 1, 1), 100);
        return [cellText(cell), ...Array<string>(span - 1).fill('')];
      }),
  );
}

/**
 * An "Excel" export that is an HTML table saved with an .xls name (what many shop back offices and
 * POS systems download; Excel opens it as a sheet). The table with the most rows is the data
 * (others are titles or layout); empty rows are skipped; the first row left is the header. Null
 * when the page holds no table row.
 */
export function readHtmlTable(html: string): Table | null {
  const doc = loadParse5().parse(html) as unknown as Node;
  const tables = tablesIn(doc);
  let best: string[][] = [];
  for (const t of tables) {
    const rows = rowsOf(t);
    if (rows.length > best.length) best = rows;
  }
  const numbered = best.map((cells, i) => ({ rowNumber: i + 1, cells })).filter((r) => r.cells.some((c) => c !== ''));
  if (numbered.length === 0) return null;
  const [header, ...rows] = numbered;
  return { headers: header.cells, rows };
}
