/**
 * Why rows were refused, in Chinese and English, with a stable code. Every rejected order goes to
 * the quarantine with its rows and these reasons, so a person can fix the row and retry.
 */
export type RejectCode =
  | 'MISSING_FIELD'
  | 'BAD_AMOUNT'
  | 'BAD_QUANTITY'
  | 'BAD_TIME'
  | 'UNKNOWN_STATUS'
  | 'NO_LINES'
  | 'TOTAL_MISMATCH'
  | 'ADDRESS_UNPARSED'
  | 'CONFLICTING_ROWS'
  | 'ORDER_REFUSED'
  /** An API order payload that cannot be read (or a person's correction of it that still cannot). */
  | 'BAD_PAYLOAD';

export interface RejectReason {
  code: RejectCode;
  /** The column (as in the file's header) the reason is about, when there is one. */
  column?: string;
  zh: string;
  en: string;
}

export const reason = {
  missing: (column: string): RejectReason => ({ code: 'MISSING_FIELD', column, zh: `${column}为空`, en: `${column} is empty` }),
  badAmount: (column: string, text: string): RejectReason => ({ code: 'BAD_AMOUNT', column, zh: `${column}不是有效金额："${text}"`, en: `${column} is not an amount: "${text}"` }),
  badQuantity: (column: string, text: string): RejectReason => ({ code: 'BAD_QUANTITY', column, zh: `${column}不是正整数："${text}"`, en: `${column} is not a positive whole number: "${text}"` }),
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
  conflictingRows: (column: string): RejectReason => ({ code: 'CONFLICTING_ROWS', column, zh: `同一订单的多行中${column}不一致`, en: `rows of one order disagree on ${column}` }),
  refused: (code: string, message: string): RejectReason => ({ code: 'ORDER_REFUSED', zh: `订单系统拒绝：${code} ${message}`, en: `refused by order intake: ${code} ${message}` }),
};

function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const a = Math.abs(fen);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}
