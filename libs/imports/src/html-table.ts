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

/** A table's own rows (through thead / tbody / tfoot) with their group, not those of a table nested in a cell. */
function rowElements(n: Node, out: { tr: Node; group: Node }[] = []): { tr: Node; group: Node }[] {
  for (const c of children(n)) {
    if (c.nodeName === 'tr') out.push({ tr: c, group: n });
    else if (c.nodeName !== 'table') rowElements(c, out);
  }
  return out;
}

/** Whether `inner` lies inside `outer`. */
function contains(outer: Node, inner: Node): boolean {
  return children(outer).some((c) => c === inner || contains(c, inner));
}

/** Widest row and most cells one HTML table may expand to (colspan x rowspan), before it is refused. */
const MAX_COLUMNS = 1_000;
const MAX_CELLS = 2_000_000;

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

const spanOf = (cell: Node, name: string, max: number): number =>
  Math.min(Math.max(Math.trunc(Number(cell.attrs?.find((a) => a.name === name)?.value ?? 1)) || 1, 1), max);

/**
 * Rows of one table, a cell per td/th. A cell spanning columns (colspan) is followed by empty
 * cells; a cell merged down over rows (rowspan: an order's id over its item rows) repeats in each
 * of them, as the same export in CSV has it, so no item row loses its order.
 */
function rowsOf(table: Node): string[][] {
  let below = new Map<number, { text: string; left: number }>();
  let lastGroup: Node | undefined;
  let cells = 0;
  return rowElements(table).map(({ tr, group }) => {
    // A merge does not reach past its thead / tbody / tfoot.
    if (group !== lastGroup) below = new Map();
    lastGroup = group;
    const row: string[] = [];
    const push = (text: string) => {
      if (row.length >= MAX_COLUMNS || ++cells > MAX_CELLS) throw new HtmlTableTooLarge();
      row.push(text);
    };
    const takeSpanned = () => {
      for (let held = below.get(row.length); held; held = below.get(row.length)) {
        const col = row.length;
        push(held.text);
        if (--held.left === 0) below.delete(col);
      }
    };
    for (const cell of children(tr).filter((c) => c.nodeName === 'td' || c.nodeName === 'th')) {
      takeSpanned();
      const text = cellText(cell);
      const rowspan = spanOf(cell, 'rowspan', 10_000);
      for (let k = 0; k < spanOf(cell, 'colspan', 100); k++) {
        if (rowspan > 1) below.set(row.length, { text: k === 0 ? text : '', left: rowspan - 1 });
        push(k === 0 ? text : '');
      }
    }
    // Cells merged down from above past this row's last own cell.
    let last = -1;
    for (const col of below.keys()) last = Math.max(last, col);
    while (row.length <= last) {
      if (below.has(row.length)) takeSpanned();
      else push('');
    }
    return row;
  });
}

/** An HTML table that spans past MAX_COLUMNS / MAX_CELLS (no export is that wide). */
export class HtmlTableTooLarge extends Error {
  constructor() {
    super(`the HTML table spans more than ${MAX_COLUMNS} columns or ${MAX_CELLS} cells`);
  }
}

/**
 * An "Excel" export that is an HTML table saved with an .xls name (what many shop back offices and
 * POS systems download; Excel opens it as a sheet). The table with the most rows is the data
 * (others are titles or layout); empty rows are skipped; the first row left is the header; row
 * numbers as Excel shows the page (rows of tables above counted). Null when the page holds no
 * table row.
 */
export function readHtmlTable(html: string): Table | null {
  const doc = loadParse5().parse(html) as unknown as Node;
  const nodes = tablesIn(doc);
  const tables = nodes.map(rowsOf);
  let at = -1;
  tables.forEach((rows, i) => {
    if (rows.length > (tables[at]?.length ?? 0)) at = i;
  });
  if (at < 0) return null;
  // Excel lays the page's tables out one after another: rows of the tables above come first
  // (not those of a layout table around this one).
  const offset = tables.slice(0, at).reduce((n, rows, i) => n + (contains(nodes[i], nodes[at]) ? 0 : rows.length), 0);
  const numbered = tables[at].map((cells, i) => ({ rowNumber: offset + i + 1, cells })).filter((r) => r.cells.some((c) => c !== ''));
  if (numbered.length === 0) return null;
  const [header, ...rows] = numbered;
  return { headers: header.cells, rows };
}
