import { CLEAR_PHONE, MAX_FEN, MAX_LINE_QUANTITY, skuProblem, type OrderSubmission, type RecipientField, type RecipientProtection } from '@flowline/contracts';
import type { ChannelOrderDraft } from './map-orders';
import type { PiiState } from './pii';

/**
 * Written in province / city / district when the platform hid the whole address and gave no
 * region either (order-intake needs a region to route the parcel); the order carries
 * `recipientProtection` listing `address`, so nobody reads it as an address.
 */
export const PROTECTED_TEXT = '[加密]';

/** Tags order-intake keeps on the order so rules and people see the recipient is not clear text. */
export function piiTags(d: ChannelOrderDraft): string[] {
  const states = Object.values(d.pii);
  const tags: string[] = [];
  if (states.includes('encrypted')) tags.push('pii:encrypted');
  if (states.includes('masked')) tags.push('pii:masked');
  return tags;
}

/**
 * order-intake's `recipientProtection` from the draft's PII states: masked fields keep the
 * platform's masked text, encrypted and absent (withheld) ones are sent empty. Undefined when the
 * whole recipient is clear text.
 */
export function recipientProtection(d: ChannelOrderDraft): RecipientProtection | undefined {
  const p: RecipientProtection = { masked: [], encrypted: [], withheld: [] };
  const list: Record<Exclude<PiiState, 'clear'>, RecipientField[]> = { masked: p.masked, encrypted: p.encrypted, absent: p.withheld };
  for (const field of ['name', 'phone', 'address'] as const) {
    const state = d.pii[field];
    if (state !== 'clear') list[state].push(field);
  }
  if (d.oaid) p.oaid = d.oaid;
  return p.masked.length + p.encrypted.length + p.withheld.length > 0 || p.oaid ? p : undefined;
}

/**
 * The canonical order order-intake's PlaceOrder takes. Totals come out equal to what the buyer
 * paid: lines at their unit price, the platform's and the shop's discounts together as the order
 * discount (the split is kept in channel-gateway for reconciliation).
 */
export function toSubmission(d: ChannelOrderDraft): OrderSubmission {
  const visible = (state: PiiState, value: string) => (state === 'clear' || state === 'masked' ? value : '');
  const protection = recipientProtection(d);
  const a = d.address;
  return {
    channel: d.channel,
    channelOrderId: d.channelOrderId,
    shopId: d.shopId,
    customer: {
      ...(d.buyerId ? { channelCustomerId: d.buyerId } : {}),
      ...(d.buyerNick ? { nickname: d.buyerNick } : {}),
      ...(d.pii.name === 'clear' ? { name: d.recipient } : {}),
      ...(d.pii.phone === 'clear' ? { phone: d.phone } : {}),
      tags: [],
    },
    shippingAddress: {
      province: a?.province || PROTECTED_TEXT,
      city: a?.city || PROTECTED_TEXT,
      district: a?.district || a?.city || PROTECTED_TEXT,
      // Exports with a separate street column often leave it empty and put everything in the detail.
      street: a?.street || a?.detail || (d.pii.address === 'clear' ? a?.district || PROTECTED_TEXT : ''),
      detail: a?.street ? a.detail : '',
      recipient: visible(d.pii.name, d.recipient),
      phone: visible(d.pii.phone, d.phone),
    },
    lines: d.lines.map((l) => ({
      lineId: l.lineId,
      sku: l.sku,
      title: l.title,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      lineDiscount: 0,
      ...(l.unitWeightGrams !== undefined ? { unitWeightGrams: l.unitWeightGrams } : {}),
    })),
    shippingFee: d.money.shippingFee,
    orderDiscount: d.money.orderDiscount,
    currency: 'CNY',
    ...(d.buyerMessage ? { buyerMessage: d.buyerMessage.slice(0, 500) } : {}),
    ...(d.sellerRemark ? { sellerRemark: d.sellerRemark.slice(0, 500) } : {}),
    tags: piiTags(d),
    attachments: [],
    placedAt: d.placedAt,
    ...(protection ? { recipientProtection: protection } : {}),
    ...(d.presale ? { presale: { ...d.presale } } : {}),
    ...(d.paymentMethod ? { paymentMethod: d.paymentMethod } : {}),
    ...(d.designatedCarrier ? { designatedCarrier: d.designatedCarrier } : {}),
  };
}

/** One value order-intake's PlaceOrder would refuse: the submission field, why (zh / en). */
export interface PlaceProblem {
  field: string;
  zh: string;
  en: string;
}

/** NUL (PostgreSQL text cannot hold it) or a lone surrogate: order-intake refuses every such string (400). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const uncleanText = (v: string) => v.includes('\u0000') || LONE_SURROGATE.test(v);
const DAY_MS = 86_400_000;
const EARLIEST_PLACED_AT = Date.parse('2000-01-01T00:00:00.000Z');

/**
 * What order-intake's PlaceOrder (its PlaceOrderDto and the decider's validateSubmission /
 * validatePlacedAt / presale terms) would refuse in this submission, checked before the call so a
 * dry run reports the same refusals as the import and the import refuses them with the row instead
 * of a round trip. The bounds are order-intake's (shared ones from libs/contracts); keep them in
 * step with services/order-intake/src/api/http/dto/place-order.dto.ts. `now` (ISO): also the
 * "placed at most a day ahead" bound.
 */
export function placeOrderProblems(s: OrderSubmission, now?: string): PlaceProblem[] {
  const out: PlaceProblem[] = [];
  const add = (field: string, zh: string, en: string) => out.push({ field, zh, en });
  const length = (field: string, value: string | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (value.trim().length < min) add(field, '为空', 'is empty');
    else if (value.length > max) add(field, `超过 ${max} 个字符`, `is longer than ${max} characters`);
  };
  const fen = (field: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_FEN) add(field, `不是 0 到 ${MAX_FEN / 100} 元之间的金额`, `is not an amount from 0 to ${MAX_FEN} fen`);
  };
  const phone = (field: string, value: string | undefined) => {
    if (value !== undefined && !CLEAR_PHONE.test(value)) add(field, `不是电话号码（5-20 位数字，可含 +、空格、-）："${value}"`, `is not a phone number (5-20 digits, an optional +, spaces or dashes): "${value}"`);
  };
  length('channelOrderId', s.channelOrderId.normalize('NFKC'), 1, 64);
  length('shopId', s.shopId.normalize('NFKC'), 1, 64);
  length('customer.channelCustomerId', s.customer.channelCustomerId, 0, 100);
  length('customer.nickname', s.customer.nickname, 0, 100);
  const a = s.shippingAddress;
  // The buyer's name and phone are usually the recipient's: one reason for one cell.
  if (s.customer.name !== a.recipient) length('customer.name', s.customer.name, 0, 100);
  if (s.customer.phone !== a.phone) phone('customer.phone', s.customer.phone);

  const p = s.recipientProtection;
  const hidden = new Set<RecipientField>([...(p?.masked ?? []), ...(p?.encrypted ?? []), ...(p?.withheld ?? [])]);
  for (const k of ['province', 'city', 'district'] as const) length(`shippingAddress.${k}`, a[k], 1, 50);
  length('shippingAddress.street', a.street, hidden.has('address') ? 0 : 1, hidden.has('address') ? 500 : 200);
  length('shippingAddress.detail', a.detail, 0, 200);
  length('shippingAddress.recipient', a.recipient, hidden.has('name') ? 0 : 1, hidden.has('name') ? 500 : 100);
  if (hidden.has('phone')) length('shippingAddress.phone', a.phone, 0, 500);
  else phone('shippingAddress.phone', a.phone);
  if (p?.oaid !== undefined) length('recipientProtection.oaid', p.oaid, 1, 200);

  if (s.lines.length === 0) add('lines', '没有商品行', 'has no line');
  if (s.lines.length > 500) add('lines', '超过 500 行', 'has more than 500 lines');
  const lineIds = new Set<string>();
  let items = 0;
  s.lines.forEach((l, i) => {
    const f = (name: string) => `lines[${i}].${name}`;
    length(f('lineId'), l.lineId, 1, 64);
    if (lineIds.has(l.lineId)) add(f('lineId'), `与另一行重复："${l.lineId}"`, `repeats another line's id "${l.lineId}"`);
    lineIds.add(l.lineId);
    const skuWhy = skuProblem(l.sku);
    if (skuWhy) add(f('sku'), `不能作为商品编码（${skuWhy}）`, `cannot be a SKU (${skuWhy})`);
    length(f('title'), l.title, 1, 200);
    if (!Number.isSafeInteger(l.quantity) || l.quantity < 1 || l.quantity > MAX_LINE_QUANTITY) add(f('quantity'), `不是 1 到 ${MAX_LINE_QUANTITY} 之间的整数`, `is not a whole number from 1 to ${MAX_LINE_QUANTITY}`);
    fen(f('unitPrice'), l.unitPrice);
    if (l.quantity * l.unitPrice > MAX_FEN) add(f('unitPrice'), '数量 × 单价超过上限', 'times the quantity is above the largest amount');
    if (l.unitWeightGrams !== undefined && (!Number.isSafeInteger(l.unitWeightGrams) || l.unitWeightGrams < 1 || l.unitWeightGrams > 1_000_000)) add(f('unitWeightGrams'), '不是 1 克到 1 吨之间', 'is not 1 g to 1 t');
    items += l.quantity * l.unitPrice - l.lineDiscount;
  });
  if (items > MAX_FEN) add('lines', '商品金额合计超过上限', 'add up to more than the largest amount');
  fen('shippingFee', s.shippingFee);
  fen('orderDiscount', s.orderDiscount);
  if (s.orderDiscount > items + s.shippingFee) add('orderDiscount', '大于商品金额加运费', 'is more than the goods plus shipping');
  if (s.tags.length > 50) add('tags', '超过 50 个', 'are more than 50');
  s.tags.forEach((t, i) => length(`tags[${i}]`, t, 0, 50));

  const placed = Date.parse(s.placedAt);
  if (Number.isNaN(placed)) add('placedAt', '不是有效时间', 'is not a time');
  else if (placed < EARLIEST_PLACED_AT) add('placedAt', '早于 2000 年', 'is before the year 2000');
  else if (now !== undefined && placed > Date.parse(now) + DAY_MS) add('placedAt', `晚于收单时间一天以上（${now}）`, `is more than a day after the order is received (${now})`);
  if (s.presale) {
    const grandTotal = items + s.shippingFee - s.orderDiscount;
    if (s.paymentMethod === 'cod') add('presale', '预售订单不能货到付款', 'a presale order is paid online, not cash on delivery');
    if (!Number.isSafeInteger(s.presale.depositAmount) || s.presale.depositAmount < 1 || s.presale.depositAmount >= grandTotal) add('presale.depositAmount', `定金须大于 0 且小于订单总额 ${grandTotal / 100} 元`, `must be above 0 and below the grand total ${grandTotal}`);
  }
  const texts: [string, string | undefined][] = [
    ['channelOrderId', s.channelOrderId],
    ['shopId', s.shopId],
    ['customer.nickname', s.customer.nickname],
    ['customer.name', s.customer.name],
    ['buyerMessage', s.buyerMessage],
    ['sellerRemark', s.sellerRemark],
    ...(['province', 'city', 'district', 'street', 'detail', 'recipient', 'phone'] as const).map((k): [string, string | undefined] => [`shippingAddress.${k}`, a[k]]),
    ...s.lines.flatMap((l, i): [string, string | undefined][] => [[`lines[${i}].title`, l.title], [`lines[${i}].lineId`, l.lineId]]),
  ];
  for (const [field, value] of texts) if (value !== undefined && uncleanText(value)) add(field, '含有 NUL 字符或无效的 Unicode', 'holds a NUL character or invalid Unicode');
  return out;
}
