import { SKU_MAX_LENGTH } from '@flowline/contracts';

/**
 * Why rows were refused, in Chinese and English, with a stable code. Every rejected order goes to
 * the quarantine with its rows and these reasons, so a person can fix the row and retry.
 */
export type RejectCode =
  | 'MISSING_FIELD'
  | 'BAD_AMOUNT'
  | 'BAD_QUANTITY'
  /** A 商家编码 no service can take as a SKU (a tab or line break inside, longer than 64 characters). */
  | 'BAD_SKU'
  | 'BAD_TIME'
  | 'UNKNOWN_STATUS'
  | 'NO_LINES'
  | 'TOTAL_MISMATCH'
  | 'ADDRESS_UNPARSED'
  | 'CONFLICTING_ROWS'
  /** An order or line id Excel turned into scientific notation: the real id is lost. */
  | 'MANGLED_ID'
  /** Lines of one order in different states (one refunded, one to ship). */
  | 'LINE_STATES_DIFFER'
  | 'ORDER_REFUSED'
  /** A value order-intake's PlaceOrder refuses (placeOrderProblems): refused before the call, in a dry run too. */
  | 'ORDER_INVALID'
  /** An API order payload that cannot be read (or a person's correction of it that still cannot). */
  | 'BAD_PAYLOAD';

export interface RejectReason {
  code: RejectCode;
  /** The column (as in the file's header) the reason is about, when there is one. */
  column?: string;
  zh: string;
  en: string;
}

/** skuProblem's reasons (libs/contracts) in Chinese. */
const SKU_WHY_ZH: Record<string, string> = {
  [`must be at most ${SKU_MAX_LENGTH} characters`]: `超过 ${SKU_MAX_LENGTH} 个字符`,
  'must not start or end with a space': '首尾有空格',
  'must not contain control characters, tabs or line breaks': '含有制表符、换行或控制字符',
};

export const reason = {
  missing: (column: string): RejectReason => ({ code: 'MISSING_FIELD', column, zh: `${column}为空`, en: `${column} is empty` }),
  badAmount: (column: string, text: string): RejectReason => ({ code: 'BAD_AMOUNT', column, zh: `${column}不是有效金额："${text}"`, en: `${column} is not an amount: "${text}"` }),
  badQuantity: (column: string, text: string): RejectReason => ({ code: 'BAD_QUANTITY', column, zh: `${column}不是正整数："${text}"`, en: `${column} is not a positive whole number: "${text}"` }),
  badSku: (column: string, text: string, why: string): RejectReason => ({
    code: 'BAD_SKU',
    column,
    zh: `${column}不能作为商品编码（${SKU_WHY_ZH[why] ?? why}）："${text}"`,
    en: `${column} cannot be a SKU (${why}): "${text}"`,
  }),
  badWeight: (column: string, text: string): RejectReason => ({ code: 'BAD_AMOUNT', column, zh: `${column}不是有效重量："${text}"`, en: `${column} is not a weight: "${text}"` }),
  badTime: (column: string, text: string): RejectReason => ({ code: 'BAD_TIME', column, zh: `${column}不是有效时间："${text}"`, en: `${column} is not a time: "${text}"` }),
  unknownStatus: (column: string, text: string): RejectReason => ({ code: 'UNKNOWN_STATUS', column, zh: `未知的订单状态："${text}"`, en: `unknown order status: "${text}"` }),
  noLines: (join: string): RejectReason => ({ code: 'NO_LINES', zh: `没有商品明细（按${join}关联）`, en: `no item lines (joined on ${join})` }),
  totalMismatch: (paidFen: number, goodsAndShippingFen: number): RejectReason => ({
    code: 'TOTAL_MISMATCH',
    zh: `实付金额 ${yuan(paidFen)} 元大于商品金额加运费 ${yuan(goodsAndShippingFen)} 元`,
    en: `amount paid ${yuan(paidFen)} is more than goods plus shipping ${yuan(goodsAndShippingFen)}`,
  }),
  lineTotalNotDivisible: (column: string, text: string): RejectReason => ({
    code: 'BAD_AMOUNT',
    column,
    zh: `${column}无法按数量均分："${text}"`,
    en: `${column} does not divide by the quantity: "${text}"`,
  }),
  addressUnparsed: (column: string, text: string): RejectReason => ({
    code: 'ADDRESS_UNPARSED',
    column,
    zh: `无法识别地址中的省市区："${text}"`,
    en: `province / city / district not found in the address: "${text}"`,
  }),
  conflictingRows: (column: string, rows?: number[]): RejectReason => ({
    code: 'CONFLICTING_ROWS',
    column,
    zh: `同一订单的多行中${column}不一致${rows?.length ? `（第 ${rows.join('、')} 行）` : ''}：可能是不同订单被并成了一个`,
    en: `rows of one order disagree on ${column}${rows?.length ? ` (rows ${rows.join(', ')})` : ''}: different orders may have been merged into one`,
  }),
  mangledId: (column: string, text: string): RejectReason => ({
    code: 'MANGLED_ID',
    column,
    zh: `${column}被 Excel 转成了科学计数法："${text}"，原编号已丢失，不同订单可能被并成一个；请从平台重新导出，或在 Excel 中把该列设为文本后再保存`,
    en: `${column} was turned into scientific notation by Excel: "${text}"; the real id is lost and different orders may have been merged; export the file from the platform again, or format the column as text in Excel before saving`,
  }),
  zeroedId: (column: string, text: string): RejectReason => ({
    code: 'MANGLED_ID',
    column,
    zh: `${column}被 Excel 当作数字保存，第 15 位之后的数字都变成了 0："${text}"，原编号已丢失，不同订单可能被并成一个；请从平台重新导出，或在 Excel 中把该列设为文本后再保存`,
    en: `${column} was saved by Excel as a number and every digit past the 15th became 0: "${text}"; the real id is lost and different orders may have been merged; export the file from the platform again, or format the column as text in Excel before saving`,
  }),
  orderRowsDiffer: (column: string, rows: number[], columns: string[]): RejectReason => ({
    code: 'CONFLICTING_ROWS',
    column,
    zh: `同一${column}出现在多行（第 ${rows.join('、')} 行），且${columns.join('、')}不同：可能是同一订单的两次导出（状态已变化）或不同订单被并成了一个，每个订单只应有一行；请只保留最新导出的一行后重试，未导入`,
    en: `one ${column} on several rows (rows ${rows.join(', ')}) that differ in ${columns.join(', ')}: two exports of the order (its status moved on) or different orders merged into one; the layout has one row per order: keep the row of the latest export and retry; not imported`,
  }),
  paidAmbiguous: (column: string, rows: number[]): RejectReason => ({
    code: 'CONFLICTING_ROWS',
    column,
    zh: `同一订单的多行（第 ${rows.join('、')} 行）${column}不同，但这些行不能确认是各自独立的子订单（子订单编号缺失或重复）：无法判断订单实付总额，未导入`,
    en: `rows ${rows.join(', ')} of one order give different ${column}, and they are not each a distinct sub-order (sub-order id missing or repeated): the order's total is ambiguous; not imported`,
  }),
  paidMissingOnRows: (column: string, blankRows: number[], filledRows: number[]): RejectReason => ({
    code: 'MISSING_FIELD',
    column,
    zh: `同一订单的子订单行中，第 ${blankRows.join('、')} 行${column}为空，第 ${filledRows.join('、')} 行已填的金额与商品金额、运费和优惠对不上：无法确定订单实付总额，请补全后重试，未导入`,
    en: `${column} is empty on rows ${blankRows.join(', ')} of the order's sub-orders, and the amounts on rows ${filledRows.join(', ')} do not add up to the goods, shipping and discounts: the order's total cannot be determined; fill it in and retry; not imported`,
  }),
  duplicateLineId: (column: string, lineId: string, rows: number[]): RejectReason => ({
    code: 'CONFLICTING_ROWS',
    column,
    zh: `${column} "${lineId}" 出现在多行（第 ${rows.join('、')} 行）`,
    en: `${column} "${lineId}" appears on several rows (rows ${rows.join(', ')})`,
  }),
  lineStatesDiffer: (column: string, rows: { row: number; status: string; afterSales: string }[]): RejectReason => {
    const zh = rows.map((r) => `第 ${r.row} 行 ${r.status}${r.afterSales && r.afterSales !== '-' ? `/${r.afterSales}` : ''}`).join('，');
    const en = rows.map((r) => `row ${r.row} ${r.status}${r.afterSales && r.afterSales !== '-' ? `/${r.afterSales}` : ''}`).join(', ');
    return {
      code: 'LINE_STATES_DIFFER',
      column,
      zh: `同一订单的商品状态不同（${zh}）：部分退款或部分发货的订单请人工处理，未导入`,
      en: `the order's lines are in different states (${en}): a partly refunded or partly shipped order needs a person; not imported`,
    };
  },
  missingId: (column: string): RejectReason => ({ code: 'MISSING_FIELD', column, zh: `${column}为空：这一行不属于任何订单`, en: `${column} is empty: the row belongs to no order` }),
  itemsQuantityMismatch: (column: string, expected: number, found: number, itemRows: number[]): RejectReason => ({
    code: 'TOTAL_MISMATCH',
    column,
    zh: `宝贝报表中该订单的购买数量合计 ${found}（第 ${itemRows.join('、')} 行），与订单报表的${column} ${expected} 不符：商品行缺失或重复，未导入`,
    en: `the items file's quantities for the order (rows ${itemRows.join(', ')}) add up to ${found}, not the ${column} ${expected} of the order file: item rows missing or repeated; not imported`,
  }),
  orderInvalid: (p: { field: string; zh: string; en: string }, column?: string): RejectReason => ({
    code: 'ORDER_INVALID',
    ...(column ? { column } : {}),
    zh: `${column ? `${column}（${p.field}）` : p.field}${p.zh}：订单系统不接受，未导入`,
    en: `${column ? `${column} (${p.field})` : p.field} ${p.en}: order intake refuses it; not imported`,
  }),
  refused: (code: string, message: string): RejectReason => ({ code: 'ORDER_REFUSED', zh: `订单系统拒绝：${code} ${message}`, en: `refused by order intake: ${code} ${message}` }),
};

function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const a = Math.abs(fen);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}
