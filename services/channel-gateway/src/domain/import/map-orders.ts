import { normalizeSku, skuProblem, type Channel } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import { parseAddress } from './address';
import { cleanCell, fenText, normalizeHeader, platformTime, quantity, yuanToFen, type Read } from './cells';
import { piiState, type PiiState } from './pii';
import type { AfterSalesState, ColumnRef, MappingProfile, PlatformState } from './profile';
import { reason, type RejectReason } from './rejections';
import { placeOrderProblems, toSubmission } from './submission';
import type { Table } from './table';

/** One platform order as read from an export, before it becomes a canonical OrderSubmission. */
export interface ChannelOrderDraft {
  channel: Channel;
  channelOrderId: string;
  shopId: string;
  /** The platform's status text and what it means for the flow. */
  platformStatus: string;
  state: PlatformState;
  afterSales: AfterSalesState;
  placedAt: string;
  paidAt: string | null;
  buyerNick?: string;
  buyerId?: string;
  recipient: string;
  phone: string;
  address: { province: string; city: string; district: string; street: string; detail: string; regionCode?: string } | null;
  /** The address as the file wrote it. */
  addressText: string;
  pii: { name: PiiState; phone: PiiState; address: PiiState };
  /** The platform's open address id (oaid) when it gave one: decrypt / print the waybill with it. */
  oaid?: string;
  /** `unitWeightGrams`: one unit's weight from the file's weight column, when it has a non-zero one. */
  lines: { lineId: string; sku: string; title: string; quantity: number; unitPrice: number; unitWeightGrams?: number }[];
  /** Integer fen. `paid` is what the buyer paid; the platform / shop discounts are kept apart for reconciliation. */
  money: { goods: number; shippingFee: number; paid: number; orderDiscount: number; platformDiscount: number; shopDiscount: number; refund: number };
  buyerMessage?: string;
  sellerRemark?: string;
  trackingNo?: string;
  carrier?: string;
  /** When the platform says the parcel left (ISO; profile `shippedAt`, Taobao 发货时间). */
  shippedAt?: string;
  /**
   * The file column of each submission field PlaceOrder would refuse (and of `placedAt`): the
   * refusal at placing names the column. Not order data (left out of the fingerprint).
   */
  fieldColumns?: Record<string, string>;
  /** Carrier code the platform designated (profile `designatedCarrier`), e.g. JD for 京东配送. */
  designatedCarrier?: string;
  /** Presale (预售): deposit (定金) in fen, balance due-by and ship date (ISO). */
  presale?: { depositAmount: number; balanceDueBy: string; shipNotBefore: string };
  /** Cash on delivery (货到付款). */
  paymentMethod?: 'cod';
  /**
   * Items-file rows identical to an earlier row of the order that nothing could confirm: no total
   * units in the order file (宝贝总数量), and what the buyer paid does not cover them (the discount
   * they would need is at least their value), so they may be a doubled export as well as sub-orders.
   * They are kept as lines and the order is held for a person to check (planSync). Not order data
   * (left out of the fingerprint).
   */
  unconfirmedRepeatRows?: number[];
  rowNumbers: number[];
  /** The order's rows as header -> cell text (and its item rows for items-file layouts). */
  rawRows: Record<string, string>[];
}

export interface RejectedOrder {
  channelOrderId: string | null;
  rowNumbers: number[];
  /** Rows of the items file joined to the order (items-file layouts). */
  itemRowNumbers: number[];
  reasons: RejectReason[];
  rawRows: Record<string, string>[];
  /** The shop the order would have (its shop cell, else the profile's default): who may see its quarantine entry. */
  shopId: string;
}

export interface MappingResult {
  drafts: ChannelOrderDraft[];
  rejected: RejectedOrder[];
  stats: { rowsRead: number; blankRows: number; summaryRows: number; duplicateRows: number };
}

/** An address is encrypted if any part is ciphertext, masked if any part is masked. */
function addressPii(parts: string[]): PiiState {
  const states = parts.map(piiState);
  if (states.includes('encrypted')) return 'encrypted';
  if (states.includes('masked')) return 'masked';
  return states.includes('clear') ? 'clear' : 'absent';
}

const DEFAULT_SUMMARY_MARKERS = ['合计', '总计', '汇总', '小计', 'total', 'subtotal'];

/**
 * The file sent as the order file is an items file (a 宝贝报表: its columns, not the 订单报表's):
 * refused saying so and what to send (HTTP 422, IMPORT_COLUMNS_MISSING as any file of the wrong layout).
 */
function itemsFileAsOrders(profile: MappingProfile): DomainError {
  return new DomainError(
    'IMPORT_COLUMNS_MISSING',
    `the order file looks like an items file (宝贝报表) of profile ${profile.id}: send the order file (订单报表) as \`file\` and this one as \`items\` (CLI: <orders file> --items <this file>) (上传的订单文件看起来是宝贝报表：请把订单报表作为 file、宝贝报表作为 items 一起上传)`,
    { profile: profile.id, version: profile.version, file: 'order file', itemsFileAsOrderFile: true },
    'invalid',
  );
}

/** A file's header does not have the columns a profile needs (HTTP 422). */
export function columnsMissing(profile: MappingProfile, file: string, missing: string[]): DomainError {
  return new DomainError(
    'IMPORT_COLUMNS_MISSING',
    `${file} lacks column(s) ${missing.join(', ')} required by profile ${profile.id}@${profile.version} (缺少列：${missing.join('、')})`,
    { profile: profile.id, version: profile.version, file, missing },
    'invalid',
  );
}

class Columns {
  private readonly index = new Map<string, number>();
  constructor(readonly headers: string[]) {
    headers.forEach((h, i) => {
      const n = normalizeHeader(h);
      if (!this.index.has(n)) this.index.set(n, i);
    });
  }
  /** Position of the first name of `ref` present in the header, or -1. */
  find(ref: ColumnRef | undefined): number {
    if (ref === undefined) return -1;
    for (const name of Array.isArray(ref) ? ref : [ref]) {
      const i = this.index.get(normalizeHeader(name));
      if (i !== undefined) return i;
    }
    return -1;
  }
  /** Header text of `ref` as the file spells it, else its first name. */
  label(ref: ColumnRef): string {
    const i = this.find(ref);
    return i >= 0 ? cleanCell(this.headers[i]) : Array.isArray(ref) ? ref[0] : ref;
  }
}

/**
 * The price column a layout needs: its unit price, or its line total when the file has only that
 * (a profile may name both: an export without 商品单价 falls back to 商品金额 / quantity).
 */
function priceRef(l: MappingProfile['lines'], cols: Columns): ColumnRef | undefined {
  return l.unitPrice && (cols.find(l.unitPrice) >= 0 || !l.lineTotal) ? l.unitPrice : l.lineTotal;
}

function requireColumns(profile: MappingProfile, cols: Columns, refs: (ColumnRef | undefined)[], file: string): void {
  const missing = refs.filter((r): r is ColumnRef => r !== undefined && cols.find(r) < 0).map((r) => (Array.isArray(r) ? r[0] : r));
  if (missing.length) throw columnsMissing(profile, file, missing);
}

/** `repeat`: the row repeats an earlier row of the file cell for cell (kept only where that can mean something, see groupRows). */
type Row = { rowNumber: number; cells: string[]; repeat?: boolean };

function rawOf(cols: Columns, row: Row): Record<string, string> {
  const raw: Record<string, string> = {};
  cols.headers.forEach((h, i) => {
    const key = cleanCell(h) || `#${i + 1}`;
    raw[key] = row.cells[i] ?? '';
  });
  return raw;
}

/** `4.01235E+18`: what Excel makes of a long id in a number cell (the real id is lost). */
const SCIENTIFIC_ID = /^[+-]?\d+(\.\d+)?e[+-]?\d+$/i;

/**
 * An id Excel kept as a number: it holds 15 significant digits, so a 19-digit Taobao id typed as a
 * Number comes back as `4822000000000000000` (every digit past the 15th a zero). Different orders fold
 * into one such id.
 */
const ZEROED_ID = /^\d{15}0+$/;
const LONG_ID = /^\d{16,}$/;

/**
 * Did Excel zero-fill this id column of the file? It does so to a whole column, so the column is
 * judged, never one id: a real id ends in zeros past its 15th digit now and then (a 19-digit id in
 * 0000 one in 10^4, a 16-digit one in 0 one in 10), and refusing it would refuse that order for
 * good. The column is zero-filled when every id of 16+ digits in it is, and either at least two
 * distinct such ids remain or the one left has at least 3 zeros past its 15th digit (a lone
 * `...0` / `...00` is as likely real). Otherwise no id of the column is taken for mangled; different
 * orders on one real id are still caught by their rows disagreeing (CONFLICTING_ROWS).
 */
export function zeroFilledColumn(ids: Iterable<string>): boolean {
  const long = new Set([...ids].filter((id) => LONG_ID.test(id)));
  if (long.size === 0 || ![...long].every((id) => ZEROED_ID.test(id))) return false;
  return long.size >= 2 || [...long].some((id) => id.length - 15 >= 3);
}

/** Why an id cell cannot be trusted (Excel mangled it), or null. `zeroFilled`: its column was judged zero-filled (zeroFilledColumn). */
function mangledIdReason(column: string, id: string, zeroFilled: boolean): RejectReason | null {
  if (SCIENTIFIC_ID.test(id)) return reason.mangledId(column, id);
  if (zeroFilled && LONG_ID.test(id) && ZEROED_ID.test(id)) return reason.zeroedId(column, id);
  return null;
}

/**
 * Drops blank, summary and exactly repeated rows; groups the rest by order id in file order. A row
 * with no order id that is not a summary row (合计 ... in its first filled cell) is an orphan:
 * rejected with its row number, never dropped silently.
 *
 * The id is NFKC-normalised as order-intake normalises the channel order id it claims: `２３１２０６-１`
 * is order `231206-1`, so a fullwidth copy of a row is a repeat and an order imported under one
 * spelling is found under the other.
 *
 * `keepRepeats` (a Taobao 宝贝报表): identical rows are kept, marked `repeat`: two sub-orders of the
 * same item are identical rows there; mapOne tells them from a repeated export with 宝贝总数量.
 */
function groupRows(
  table: Table,
  cols: Columns,
  idRef: ColumnRef,
  markers: string[],
  stats: MappingResult['stats'],
  keepRepeats = false,
): { groups: Map<string, Row[]>; orphans: Row[] } {
  const idIdx = cols.find(idRef);
  const seen = new Set<string>();
  const groups = new Map<string, Row[]>();
  const orphans: Row[] = [];
  const isMarker = (text: string) => {
    const lower = text.toLowerCase();
    return markers.some((m) => lower.startsWith(m.toLowerCase()));
  };
  for (const r of table.rows) {
    stats.rowsRead += 1;
    const cells = r.cells.map((c) => cleanCell(c));
    if (cells.every((c) => c === '')) {
      stats.blankRows += 1;
      continue;
    }
    const id = (cells[idIdx] ?? '').normalize('NFKC');
    if (idIdx >= 0 && id !== '') cells[idIdx] = id;
    if (isMarker(id === '' ? (cells.find((c) => c !== '') ?? '') : id)) {
      stats.summaryRows += 1;
      continue;
    }
    if (id === '') {
      orphans.push({ rowNumber: r.rowNumber, cells });
      continue;
    }
    const key = JSON.stringify(cells);
    const repeat = seen.has(key);
    if (repeat && !keepRepeats) {
      stats.duplicateRows += 1;
      continue;
    }
    seen.add(key);
    const list = groups.get(id) ?? [];
    list.push({ rowNumber: r.rowNumber, cells, ...(repeat ? { repeat } : {}) });
    groups.set(id, list);
  }
  return { groups, orphans };
}

/** How mapOrders reads the rows it is given. */
export interface MapOptions {
  /**
   * The file's verdict on its id columns (zeroFilledColumn) when the rows given are one order's
   * taken from it: a re-map of a stored order (false: its ids were accepted), a quarantine entry
   * (true when it was refused as MANGLED_ID: a person types the real id). One order's rows alone
   * cannot tell a zero-filled column from a real id that ends in zeros. Absent: judged here.
   */
  zeroFilledIds?: boolean;
  /**
   * The configured shop id of a shop name as the export writes it (店铺名称 -> `tmall-flagship`,
   * channel-gateway's CHANNEL_IMPORT_SHOPS): staff limited to a shop see its orders. A name it does
   * not know stays the shop id, as the file gives it.
   */
  shopIdOf?: (name: string) => string | undefined;
}

/**
 * Maps a platform export (and its items file, for items-file layouts) to orders with a profile.
 * Pure: the same table and profile always give the same drafts and rejections.
 */
export function mapOrders(profile: MappingProfile, table: Table, items?: Table, options: MapOptions = {}): MappingResult {
  const cols = new Columns(table.headers);
  const o = profile.order;
  const m = profile.money;
  const l = profile.lines;
  if (l.from === 'items-file' && [o.id, o.status, o.placedAt, m.paid].some((r) => cols.find(r) < 0) && [l.join ?? o.id, l.sku, l.title, l.quantity, priceRef(l, cols)].every((r) => cols.find(r) >= 0)) throw itemsFileAsOrders(profile);
  requireColumns(profile, cols, [o.id, o.status, o.placedAt, m.paid], 'order file');
  const itemCols = l.from === 'items-file' ? new Columns(items?.headers ?? []) : cols;
  if (l.from === 'items-file') {
    if (!items)
      throw new DomainError(
        'IMPORT_ITEMS_FILE_REQUIRED',
        `profile ${profile.id} joins an items file (宝贝报表) to the order file: send it as \`items\` ({name, contentBase64}) beside \`file\` (CLI: --items <file>) (模板 ${profile.id} 需要同时上传宝贝报表：接口字段 items，命令行 --items)`,
        { profile: profile.id, field: 'items' },
        'invalid',
      );
    requireColumns(profile, itemCols, [l.join, l.sku, l.title, l.quantity, priceRef(l, itemCols)], 'items file');
  } else requireColumns(profile, cols, [l.sku, l.title, l.quantity, priceRef(l, cols)], 'order file');

  const markers = o.summaryMarkers ?? DEFAULT_SUMMARY_MARKERS;
  const stats = { rowsRead: 0, blankRows: 0, summaryRows: 0, duplicateRows: 0 };
  const { groups, orphans } = groupRows(table, cols, o.id, markers, stats);
  const itemRead = l.from === 'items-file' && items ? groupRows(items, itemCols, l.join ?? o.id, markers, { rowsRead: 0, blankRows: 0, summaryRows: 0, duplicateRows: 0 }, true) : { groups: new Map<string, Row[]>(), orphans: [] };
  const itemGroups = itemRead.groups;
  // Excel zero-fills a whole column: the order id and line id columns are judged over the file.
  const judge = (ids: Iterable<string>) => options.zeroFilledIds ?? zeroFilledColumn(ids);
  const zeroFilledOrderIds = judge(groups.keys());
  const lineIdIdx = itemCols.find(l.lineId);
  const allLineRows = [...(l.from === 'items-file' ? itemGroups : groups).values()].flat();
  const zeroFilledLineIds = lineIdIdx >= 0 && judge(allLineRows.map((r) => r.cells[lineIdIdx] ?? ''));

  const drafts: ChannelOrderDraft[] = [];
  const rejected: RejectedOrder[] = [];
  // As mapOne names the draft's shop: the shop cell, else the profile's default.
  const shopIdx = cols.find(o.shop);
  const fallbackShop = profile.defaultShopId || `${profile.channel}-default`;
  const known = (name: string) => options.shopIdOf?.(name) ?? name;
  const shopOf = (rows: readonly Row[]) => known(rows.map((r) => (shopIdx >= 0 ? cleanCell(r.cells[shopIdx] ?? '') : '')).find((v) => v !== '') || fallbackShop);
  for (const r of orphans) rejected.push({ channelOrderId: null, rowNumbers: [r.rowNumber], itemRowNumbers: [], reasons: [reason.missingId(cols.label(o.id))], rawRows: [rawOf(cols, r)], shopId: shopOf([r]) });
  for (const r of itemRead.orphans) rejected.push({ channelOrderId: null, rowNumbers: [], itemRowNumbers: [r.rowNumber], reasons: [reason.missingId(itemCols.label(l.join ?? o.id))], rawRows: [rawOf(itemCols, r)], shopId: known(fallbackShop) });
  for (const [id, rows] of groups) {
    const lineRows = l.from === 'items-file' ? (itemGroups.get(id) ?? []) : rows;
    const rawRows = [...rows.map((r) => rawOf(cols, r)), ...(l.from === 'items-file' ? lineRows.map((r) => rawOf(itemCols, r)) : [])];
    const rowNumbers = rows.map((r) => r.rowNumber);
    // Excel's scientific notation or zero-filled digits fold different orders into one id: refuse the group whole.
    const mangled = mangledIdReason(cols.label(o.id), id, zeroFilledOrderIds);
    // One row per order (Pinduoduo, the Taobao 订单报表): rows of one id that differ are two versions
    // of the order (a later export appended, a status moved on) or different orders, never more lines.
    const one = mangled || l.from === 'rows' ? null : oneOrderRow(profile, cols, rows);
    const result = mangled ? [mangled] : one && 'reasons' in one ? one.reasons : mapOne(profile, cols, itemCols, id, one ? [one.row] : rows, one && l.from === 'single' ? [one.row] : lineRows, zeroFilledLineIds);
    if (Array.isArray(result)) rejected.push({ channelOrderId: id, rowNumbers, itemRowNumbers: l.from === 'items-file' ? lineRows.map((r) => r.rowNumber) : [], reasons: result, rawRows, shopId: shopOf(rows) });
    else drafts.push({ ...result, shopId: known(result.shopId), rowNumbers, rawRows });
  }
  return { drafts, rejected, stats };
}

/** Free-text note columns (留言 / 备注): a seller edits them after export; they do not make another order. */
const NOTE_HEADER = /备注|留言|remark|note|memo/i;

/**
 * The one row of an order in a one-row-per-order layout (Pinduoduo, the Taobao 订单报表). Rows of one
 * id that repeat it except for notes (the seller added a 商家备注 between two exports) are the same
 * order: its row, the notes kept (distinct, in file order). Rows that differ in anything else (status,
 * amounts, item, quantity, times, tracking number) are two versions of the order or two orders folded
 * into one id: refused with the rows and the columns, never merged into more lines.
 */
function oneOrderRow(profile: MappingProfile, cols: Columns, rows: Row[]): { row: Row } | { reasons: RejectReason[] } {
  const [first] = rows;
  if (rows.length === 1 || !first) return { row: first as Row };
  const notes = new Set([cols.find(profile.order.buyerMessage), cols.find(profile.order.sellerRemark)].filter((i) => i >= 0));
  cols.headers.forEach((h, i) => {
    if (NOTE_HEADER.test(normalizeHeader(h))) notes.add(i);
  });
  const width = Math.max(cols.headers.length, ...rows.map((r) => r.cells.length));
  const differ: string[] = [];
  const cells = [...first.cells];
  for (let i = 0; i < width; i++) {
    const values = rows.map((r) => r.cells[i] ?? '');
    if (new Set(values).size === 1) continue;
    if (notes.has(i)) cells[i] = [...new Set(values.filter(Boolean))].join(' / ');
    else differ.push(cleanCell(cols.headers[i] ?? '') || `#${i + 1}`);
  }
  if (differ.length) return { reasons: [reason.orderRowsDiffer(cols.label(profile.order.id), rows.map((r) => r.rowNumber), differ)] };
  return { row: { rowNumber: first.rowNumber, cells } };
}

function mapOne(
  profile: MappingProfile,
  cols: Columns,
  itemCols: Columns,
  id: string,
  rows: Row[],
  lineRows: Row[],
  zeroFilledLineIds: boolean,
): Omit<ChannelOrderDraft, 'rowNumbers' | 'rawRows'> | RejectReason[] {
  const o = profile.order;
  const m = profile.money;
  const l = profile.lines;
  const problems: RejectReason[] = [];
  /** Order-level cell: the first non-empty value among the order's rows (Shopify fills only the first row). */
  const cell = (ref: ColumnRef | undefined): string => {
    const i = cols.find(ref);
    if (i < 0) return '';
    for (const r of rows) if (r.cells[i]) return r.cells[i];
    return '';
  };
  const read = <T>(ref: ColumnRef | undefined, f: (t: string) => Read<T>, fallback: T, label = ref ? cols.label(ref) : ''): T => {
    const r = f(cell(ref));
    if (r.ok) return r.value;
    problems.push(r.reason.code === 'BAD_TIME' ? reason.badTime(label, r.reason.detail) : r.reason.code === 'BAD_QUANTITY' ? reason.badQuantity(label, r.reason.detail) : reason.badAmount(label, r.reason.detail));
    return fallback;
  };
  const money = profile.moneyUnit === 'fen' ? fenText : yuanToFen;

  const statusText = cell(o.status);
  const state = profile.statuses[statusText] ?? Object.entries(profile.statuses).find(([k]) => normalizeHeader(k) === normalizeHeader(statusText))?.[1];
  if (!statusText) problems.push(reason.missing(cols.label(o.status)));
  else if (!state) problems.push(reason.unknownStatus(cols.label(o.status), statusText));
  const afterSalesText = cell(o.afterSalesStatus);
  const afterSales: AfterSalesState = (afterSalesText && profile.afterSalesStatuses?.[afterSalesText]) || 'none';

  const placedAt = read(o.placedAt, platformTime, null);
  if (placedAt === null && cell(o.placedAt) === '') problems.push(reason.missing(cols.label(o.placedAt)));
  const paidAt = read(o.paidAt, platformTime, null);
  const shippedAt = read(o.shippedAt, platformTime, null);

  // Rows of one order name one buyer and one address: rows that disagree are different orders
  // folded together (an id mangled by a spreadsheet, a wrong join), never one to ship.
  // Order times, and the status and amount paid where they are the order's (not each line's), too:
  // two orders sharing an id (a mangled id, a wrong join) mostly differ there, not in the buyer.
  // Rows that are distinct sub-orders (each its own line id) may carry their own amounts (subOrderAmounts).
  const subOrders = l.from === 'rows' && rows.length > 1 && distinctSubOrders(cols, l.lineId, rows);
  if (rows.length > 1) {
    const orderLevel = [o.placedAt, o.paidAt, ...(l.status ? [] : [o.status]), ...(m.paidPerSubOrder || subOrders ? [] : [m.paid])];
    for (const ref of [o.recipient, o.phone, o.address, o.province, o.city, o.district, o.street, o.detail, o.buyerNick, o.buyerId, ...orderLevel]) {
      const i = cols.find(ref);
      if (i < 0 || !ref) continue;
      const filled = rows.filter((r) => r.cells[i]);
      if (new Set(filled.map((r) => r.cells[i])).size > 1) problems.push(reason.conflictingRows(cols.label(ref), filled.map((r) => r.rowNumber)));
    }
  }
  // Per-line states (Douyin writes each sub-order's own status and after-sales on its row): an
  // order whose lines are in different states (one refunded or closed, one to ship; one shipped,
  // one not) cannot be taken as one state, so it waits in the quarantine rather than shipping
  // goods the buyer was refunded.
  // The same for a 宝贝报表's per-item 订单状态 (one item 交易关闭, one to ship).
  if (l.status && l.from !== 'single' && lineRows.length > 1) {
    const si = itemCols.find(l.status);
    const ai = itemCols.find(o.afterSalesStatus);
    const stateOf = (r: Row) => {
      const text = si >= 0 ? (r.cells[si] ?? '') : '';
      const after = ai >= 0 ? (r.cells[ai] ?? '') : '';
      return `${profile.statuses[text] ?? text}/${(after && profile.afterSalesStatuses?.[after]) || 'none'}`;
    };
    const states = new Set(lineRows.map(stateOf));
    if (states.size > 1) problems.push(reason.lineStatesDiffer(itemCols.label(l.status), lineRows.map((r) => ({ row: r.rowNumber, status: si >= 0 ? (r.cells[si] ?? '') : '', afterSales: ai >= 0 ? (r.cells[ai] ?? '') : '' }))));
  }

  // Lines.
  const itemRows = l.from === 'items-file' ? reconcileItemRows(profile, cols, itemCols, cell, lineRows, problems) : lineRows;
  const lines: ChannelOrderDraft['lines'] = [];
  const lineIdRows = new Map<string, number[]>();
  if (lineRows.length === 0) problems.push(reason.noLines(cols.label(l.join ?? o.id)));
  itemRows.forEach((r, n) => {
    const at = (ref: ColumnRef | undefined) => {
      const i = itemCols.find(ref);
      return i >= 0 ? (r.cells[i] ?? '') : '';
    };
    // The one SKU form every service takes (NFKC, no tabs or line breaks, at most 64 characters):
    // refused here with the row, not later by order-intake or inventory.
    const sku = normalizeSku(at(l.sku));
    const title = at(l.title);
    const skuWhy = sku ? skuProblem(sku) : null;
    if (!sku) problems.push(reason.missing(itemCols.label(l.sku)));
    else if (skuWhy) problems.push(reason.badSku(itemCols.label(l.sku), sku, skuWhy));
    if (!title) problems.push(reason.missing(itemCols.label(l.title)));
    const q = quantity(at(l.quantity));
    if (!q.ok) problems.push(reason.badQuantity(itemCols.label(l.quantity), q.reason.detail));
    let unitPrice = 0;
    if (l.unitPrice && (itemCols.find(l.unitPrice) >= 0 || !l.lineTotal)) {
      const p = money(at(l.unitPrice));
      if (!p.ok || p.value < 0) problems.push(reason.badAmount(itemCols.label(l.unitPrice), at(l.unitPrice)));
      else unitPrice = p.value;
    } else if (l.lineTotal) {
      const t = money(at(l.lineTotal));
      if (!t.ok || t.value < 0) problems.push(reason.badAmount(itemCols.label(l.lineTotal), at(l.lineTotal)));
      else if (q.ok && t.value % q.value !== 0) problems.push(reason.lineTotalNotDivisible(itemCols.label(l.lineTotal), at(l.lineTotal)));
      else if (q.ok) unitPrice = t.value / q.value;
    }
    const lineId = at(l.lineId) || `${id}-${n + 1}`;
    const lineIdMangled = l.lineId ? mangledIdReason(itemCols.label(l.lineId), at(l.lineId), zeroFilledLineIds) : null;
    if (lineIdMangled) problems.push(lineIdMangled);
    else if (at(l.lineId)) lineIdRows.set(lineId, [...(lineIdRows.get(lineId) ?? []), r.rowNumber]);
    const weight = l.weight ? unitWeightGrams(at(l.weight), l.weightUnit ?? 'g', l.weightPer ?? 'unit', q.ok ? q.value : 1) : { ok: true as const, value: undefined };
    if (!weight.ok) problems.push(reason.badWeight(itemCols.label(l.weight ?? ''), at(l.weight)));
    if (sku && !skuWhy && title && q.ok) lines.push({ lineId, sku, title, quantity: q.value, unitPrice, ...(weight.ok && weight.value !== undefined ? { unitWeightGrams: weight.value } : {}) });
  });

  for (const [lineId, at] of lineIdRows) if (at.length > 1 && l.lineId) problems.push(reason.duplicateLineId(itemCols.label(l.lineId), lineId, at));

  const goods = lines.reduce((s, x) => s + x.quantity * x.unitPrice, 0);
  const { paid, shippingFee, platformDiscount, shopDiscount, refund } = subOrders
    ? subOrderAmounts(profile, cols, rows, money, goods, problems)
    : {
        shippingFee: read(m.shippingFee, money, 0),
        platformDiscount: read(m.platformDiscount, money, 0),
        shopDiscount: read(m.shopDiscount, money, 0),
        refund: read(m.refund, money, 0),
        paid: m.paidPerSubOrder && l.from === 'rows' && rows.length > 1 ? paidOfRows(cols, m.paid, rows, money, problems) : read(m.paid, money, 0),
      };
  // Presale (预售): a deposit (定金) makes the row a presale order; deposit + balance (尾款) is the amount due.
  const ps = profile.presale;
  const deposit = ps && cell(ps.deposit) ? read(ps.deposit, money, 0) : 0;
  const balance = deposit > 0 && ps ? read(ps.balance, money, 0) : 0;
  const balanceDueBy = deposit > 0 && ps ? read(ps.balanceDueBy, platformTime, null) : null;
  const shipNotBefore = deposit > 0 && ps ? read(ps.shipNotBefore, platformTime, null) : null;
  if (deposit > 0 && ps && (balanceDueBy === null || shipNotBefore === null)) problems.push(reason.missing(cols.label(balanceDueBy === null ? ps.balanceDueBy : ps.shipNotBefore)));
  const cod = !!profile.cod && profile.cod.values.includes(cell(profile.cod.column));
  const designatedCarrier = profile.designatedCarrier ? designatedCarrierOf(profile.designatedCarrier.values, cell(profile.designatedCarrier.column)) : undefined;
  // An unpaid (or closed unpaid) order shows 0 paid on most platforms: the amount due is then goods + shipping - discounts.
  const due =
    deposit > 0
      ? deposit + balance
      : paid > 0 || (state !== 'unpaid' && state !== 'closed' && !cod)
        ? paid
        : goods + shippingFee - platformDiscount - shopDiscount;
  const orderDiscount = goods + shippingFee - due;
  if (lines.length && problems.length === 0 && orderDiscount < 0) problems.push(reason.totalMismatch(due, goods + shippingFee));
  // Identical item rows no total units confirmed (see reconcileItemRows): when the payment does not
  // cover them either, they may be a doubled export; the order is held for a person (unconfirmedRepeatRows).
  const unconfirmedRepeatRows: number[] = [];
  if (l.from === 'items-file' && !cell(profile.order.totalQuantity) && lines.length === itemRows.length) {
    const repeatValue = itemRows.reduce((sum, r, n) => (r.repeat ? sum + lines[n].quantity * lines[n].unitPrice : sum), 0);
    if (repeatValue > 0 && orderDiscount >= repeatValue) unconfirmedRepeatRows.push(...itemRows.filter((r) => r.repeat).map((r) => r.rowNumber));
  }

  // Recipient and address: masked / encrypted values are flagged and kept as the platform sent them.
  const recipient = cell(o.recipient);
  const phone = cell(o.phone);
  const separate = o.province !== undefined;
  const parts = separate ? [o.province, o.city, o.district, o.street, o.detail].map((r) => cell(r)) : cell(o.address).split(/\s+/);
  const addressText = separate ? parts.filter(Boolean).join(' ') : cell(o.address);
  const pii = { name: piiState(recipient), phone: piiState(phone), address: addressPii(parts) };
  let address: ChannelOrderDraft['address'] = null;
  if (addressText) {
    if (separate) {
      // Encrypted parts are left empty (never copied as if they were an address); the flag says why.
      const part = (ref: ColumnRef | undefined) => (piiState(cell(ref)) === 'encrypted' ? '' : cell(ref));
      address = { province: part(o.province), city: part(o.city), district: part(o.district), street: part(o.street), detail: part(o.detail) };
    } else if (pii.address !== 'encrypted') {
      const parsed = parseAddress(addressText);
      if (parsed) address = { province: parsed.province, city: parsed.city, district: parsed.district, street: parsed.street, detail: '', regionCode: parsed.regionCode };
      else if (pii.address === 'clear') problems.push(reason.addressUnparsed(cols.label(o.address ?? ''), addressText));
    }
  }
  if (pii.address === 'absent' && profile.channel !== 'offline') problems.push(reason.missing(cols.label(o.address ?? o.province ?? '收货地址')));

  if (problems.length) return problems;
  const opt = (k: string, v: string) => (v ? { [k]: v } : {});
  const draft: Omit<ChannelOrderDraft, 'rowNumbers' | 'rawRows'> = {
    channel: profile.channel,
    channelOrderId: id,
    shopId: cell(o.shop) || profile.defaultShopId || `${profile.channel}-default`,
    platformStatus: statusText,
    state: state as PlatformState,
    afterSales,
    placedAt: placedAt as string,
    paidAt,
    ...opt('buyerNick', cell(o.buyerNick)),
    ...opt('buyerId', cell(o.buyerId)),
    recipient,
    phone,
    address,
    addressText,
    pii,
    lines,
    money: { goods, shippingFee, paid: due, orderDiscount, platformDiscount, shopDiscount, refund },
    ...opt('buyerMessage', cell(o.buyerMessage)),
    ...opt('sellerRemark', cell(o.sellerRemark)),
    ...opt('trackingNo', cell(o.trackingNo)),
    ...opt('carrier', cell(o.carrier)),
    ...(designatedCarrier ? { designatedCarrier } : {}),
    ...(deposit > 0 && balanceDueBy && shipNotBefore ? { presale: { depositAmount: deposit, balanceDueBy, shipNotBefore } } : {}),
    ...(cod ? { paymentMethod: 'cod' as const } : {}),
    ...(shippedAt ? { shippedAt } : {}),
    ...(unconfirmedRepeatRows.length ? { unconfirmedRepeatRows } : {}),
  };
  // What order-intake's PlaceOrder would refuse (a phone that is not digits, a title over 200
  // characters, ...) is refused when the order is to be placed (ImportService.placement), with the
  // column, in a dry run as in the import. Not here: an order already placed (a person corrected
  // its phone in the quarantine, the platform's export still carries the old one) must still get
  // its cancel or refund.
  const fieldColumns: Record<string, string> = {};
  for (const field of [...placeOrderProblems(toSubmission({ ...draft, rowNumbers: [], rawRows: [] })).map((x) => x.field), 'placedAt']) {
    const column = columnOfField(profile, cols, itemCols, field);
    if (column) fieldColumns[field] = column;
  }
  return { ...draft, fieldColumns };
}

/** Every row names its own line id and no two the same: the rows are distinct sub-orders. */
function distinctSubOrders(cols: Columns, lineId: ColumnRef | undefined, rows: Row[]): boolean {
  const li = cols.find(lineId);
  if (li < 0) return false;
  const ids = rows.map((r) => r.cells[li] ?? '');
  return ids.every(Boolean) && new Set(ids).size === rows.length;
}

/** An amount cell the platform left blank (or `-`): not given, never read as 0 paid. */
const given = (text: string) => text !== '' && text !== '-';

type Amounts = { paid: number; shippingFee: number; platformDiscount: number; shopDiscount: number; refund: number };
const AMOUNT_KEYS = ['paid', 'shippingFee', 'platformDiscount', 'shopDiscount', 'refund'] as const;

/**
 * The amounts of an order whose rows are distinct sub-orders (each its own line id).
 *
 * Per sub-order layouts (profile `money.paidPerSubOrder`, Douyin 订单应付金额): paid and every
 * shipping / discount / refund column are each row's own and are summed, so the sum paid is compared
 * with the goods plus the summed shipping less the summed discounts (sums with sums). Only an older
 * export that writes the order's amounts unchanged on every row is read once: every amount cell
 * the same on all rows, the order's reading adding up to the goods and the summed one not (with two
 * rows or more both cannot add up).
 *
 * Other layouts (千牛, JD): a column whose rows give different amounts is per sub-order and summed;
 * one amount on every row is the order's, read once (never summed because N times it happens to fit).
 *
 * A blank paid cell on some rows is not given: the filled rows stand for the order when they add up
 * to its goods, shipping and discounts; otherwise the total is unknown and the order is refused
 * naming the blank rows (never a blank read as 0 paid, never the rest made a discount).
 */
function subOrderAmounts(profile: MappingProfile, cols: Columns, rows: Row[], money: (t: string) => Read<number>, goods: number, problems: RejectReason[]): Amounts {
  const m = profile.money;
  const perSubOrder = !!m.paidPerSubOrder;
  const cells = {} as Record<(typeof AMOUNT_KEYS)[number], string[]>;
  const values = {} as Record<(typeof AMOUNT_KEYS)[number], number[]>;
  let unreadable = false;
  for (const k of AMOUNT_KEYS) {
    const i = cols.find(m[k]);
    cells[k] = rows.map((r) => (i >= 0 ? (r.cells[i] ?? '') : ''));
    values[k] = cells[k].map((t) => {
      const a = given(t) ? money(t) : { ok: true as const, value: 0 };
      if (a.ok) return a.value;
      problems.push(reason.badAmount(cols.label(m[k] ?? k), t));
      unreadable = true;
      return 0;
    });
  }
  const zero = { paid: 0, shippingFee: 0, platformDiscount: 0, shopDiscount: 0, refund: 0 };
  if (unreadable) return zero;
  const sum = (k: (typeof AMOUNT_KEYS)[number]) => values[k].reduce((a, b) => a + b, 0);
  const once = (k: (typeof AMOUNT_KEYS)[number]) => values[k][cells[k].findIndex(given)] ?? 0;
  const varies = (k: (typeof AMOUNT_KEYS)[number]) => new Set(cells[k].filter(given)).size > 1;
  const read = (summed: (k: (typeof AMOUNT_KEYS)[number]) => boolean): Amounts => {
    const out = { ...zero };
    for (const k of AMOUNT_KEYS) out[k] = summed(k) ? sum(k) : once(k);
    return out;
  };
  const fits = (a: Amounts) => a.paid === goods + a.shippingFee - a.platformDiscount - a.shopDiscount;
  let amounts = read((k) => perSubOrder || varies(k));
  if (perSubOrder && !fits(amounts)) {
    const repeated = AMOUNT_KEYS.every((k) => new Set(cells[k]).size === 1);
    const orderLevel = read(() => false);
    if (repeated && fits(orderLevel)) amounts = orderLevel;
  }
  const blank = rows.filter((_, n) => !given(cells.paid[n] ?? ''));
  if (blank.length > 0 && blank.length < rows.length && (perSubOrder || varies('paid')) && !fits(amounts)) {
    problems.push(reason.paidMissingOnRows(cols.label(m.paid), blank.map((r) => r.rowNumber), rows.filter((r) => !blank.includes(r)).map((r) => r.rowNumber)));
  }
  return amounts;
}

/**
 * What the buyer paid for a per sub-order layout (`money.paidPerSubOrder`) whose rows are not each a
 * distinct sub-order (line ids missing or repeated): one amount on the filled rows is the order's;
 * different amounts are ambiguous and refused, never the first row's taken (the rest would become an
 * invented discount).
 */
function paidOfRows(cols: Columns, ref: ColumnRef, rows: Row[], money: (t: string) => Read<number>, problems: RejectReason[]): number {
  const pi = cols.find(ref);
  const label = cols.label(ref);
  const texts = [...new Set(rows.map((r) => (pi >= 0 ? (r.cells[pi] ?? '') : '')).filter(given))];
  if (texts.length > 1) {
    problems.push(reason.paidAmbiguous(label, rows.map((r) => r.rowNumber)));
    return 0;
  }
  const a = money(texts[0] ?? '');
  if (!a.ok) problems.push(reason.badAmount(label, texts[0] ?? ''));
  return a.ok ? a.value : 0;
}

/** The file column a submission field comes from (for the reason), when there is one. */
function columnOfField(profile: MappingProfile, cols: Columns, itemCols: Columns, field: string): string | undefined {
  const o = profile.order;
  const l = profile.lines;
  const at = (c: Columns, ref: ColumnRef | undefined) => (ref !== undefined && c.find(ref) >= 0 ? c.label(ref) : undefined);
  const line = /^lines\[\d+\]\.(\w+)$/.exec(field)?.[1];
  if (line) {
    const ref = { lineId: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unitPrice: priceRef(l, itemCols), unitWeightGrams: l.weight }[line];
    return at(itemCols, ref);
  }
  const refs: Record<string, ColumnRef | undefined> = {
    channelOrderId: o.id,
    shopId: o.shop,
    'customer.channelCustomerId': o.buyerId,
    'customer.nickname': o.buyerNick,
    'customer.name': o.recipient,
    'customer.phone': o.phone,
    'shippingAddress.recipient': o.recipient,
    'shippingAddress.phone': o.phone,
    'shippingAddress.province': o.province ?? o.address,
    'shippingAddress.city': o.city ?? o.address,
    'shippingAddress.district': o.district ?? o.address,
    'shippingAddress.street': o.street ?? o.detail ?? o.address,
    'shippingAddress.detail': o.detail ?? o.address,
    placedAt: o.placedAt,
    shippingFee: profile.money.shippingFee,
    'presale.depositAmount': profile.presale?.deposit,
  };
  return at(cols, refs[field]);
}

/**
 * The item rows of an items-file order (Taobao 宝贝报表). Identical rows are kept: two sub-orders of
 * the same item look alike there. With the order file's total units (`totalQuantity`, 宝贝总数量)
 * the lines must add up to it; when they do only without the identical rows, those were a repeated
 * export and are dropped; otherwise the order is refused (TOTAL_MISMATCH), never placed short or doubled.
 */
function reconcileItemRows(profile: MappingProfile, cols: Columns, itemCols: Columns, cell: (ref: ColumnRef | undefined) => string, lineRows: Row[], problems: RejectReason[]): Row[] {
  const ref = profile.order.totalQuantity;
  const text = cell(ref);
  if (!ref || !text || lineRows.length === 0) return lineRows;
  const label = cols.label(ref);
  const expected = quantity(text);
  if (!expected.ok) {
    problems.push(reason.badQuantity(label, text));
    return lineRows;
  }
  const qi = itemCols.find(profile.lines.quantity);
  const unitsOf = new Map<Row, number>();
  for (const r of lineRows) {
    const q = quantity(r.cells[qi] ?? '');
    // An unreadable quantity is refused on its own row (BAD_QUANTITY): no sum to compare.
    if (!q.ok) return lineRows;
    unitsOf.set(r, q.value);
  }
  const units = (rows: Row[]) => rows.reduce((n, r) => n + (unitsOf.get(r) ?? 0), 0);
  if (units(lineRows) === expected.value) return lineRows;
  const firsts = lineRows.filter((r) => !r.repeat);
  if (firsts.length < lineRows.length && units(firsts) === expected.value) return firsts;
  problems.push(reason.itemsQuantityMismatch(label, expected.value, units(lineRows), lineRows.map((r) => r.rowNumber)));
  return lineRows;
}

/** The carrier code a designation text maps to (exact, else after normalizeHeader: spaces, case); unlisted or empty: none. */
export function designatedCarrierOf(values: Record<string, string>, text: string): string | undefined {
  if (!text) return undefined;
  return values[text] ?? Object.entries(values).find(([k]) => normalizeHeader(k) === normalizeHeader(text))?.[1];
}

/**
 * One unit's weight in whole grams from a weight cell (`0.26` kg, `260` g, `1.5kg`, `260 克`):
 * empty or 0 is unknown (platforms write 0 when the product has no weight), a line weight is divided
 * by the quantity (rounded, at least 1 g). Anything else that is not a non-negative number is refused.
 */
export function unitWeightGrams(text: string, unit: 'kg' | 'g', per: 'unit' | 'line', quantity: number): Read<number | undefined> {
  const t = cleanCell(text).replace(/\s+/g, '').toLowerCase();
  if (!t) return { ok: true, value: undefined };
  const m = /^(\d+(?:\.\d+)?)(kg|公斤|千克|g|克)?$/.exec(t);
  if (!m) return { ok: false, reason: { code: 'BAD_AMOUNT', detail: text } };
  const written = m[2] ? (['kg', '公斤', '千克'].includes(m[2]) ? 'kg' : 'g') : unit;
  const grams = Number(m[1]) * (written === 'kg' ? 1000 : 1);
  if (grams === 0) return { ok: true, value: undefined };
  const perUnit = per === 'line' ? grams / Math.max(1, quantity) : grams;
  return { ok: true, value: Math.max(1, Math.round(perUnit)) };
}
