import type {
  AddressView,
  CustomerRef,
  OrderLineInput,
  OrderLineView,
  OrderSubmission,
  OrderTotals,
  ShippingAddress,
  CustomerDetails,
  RecipientField,
  RecipientProtection,
} from '@flowline/contracts';
import { CHANNELS, RECIPIENT_FIELDS, maskEmail, maskName, maskPhone, maskStreet } from '@flowline/contracts';
import { OrderErrors } from './order.errors';

/**
 * Currency codes as ICU lists them (Intl.supportedValuesOf: ISO 4217's codes as of the ICU data in
 * this Node version, so a code newer than that data is refused until Node is upgraded): XYZ is not money.
 */
export const ISO_4217: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/**
 * The canonical order inside order-intake: what the buyer submitted (full PII) plus what the
 * server owns (the id and the totals). Money is integer minor units (fen) throughout.
 */
export interface CanonicalOrder extends OrderSubmission {
  /** Server-made, sortable (ULID), generated at the edge and passed in on PlaceOrder. */
  orderId: string;
  totals: OrderTotals;
}

/** Upper bound of any amount we accept: keeps every sum a safe integer. */
export const MAX_AMOUNT = 1_000_000_000_00; // ¥1,000,000,000.00 in fen
export const MAX_LINES = 500;

/** Line total after the line discount, in minor units. */
export function lineTotal(line: Pick<OrderLineInput, 'quantity' | 'unitPrice' | 'lineDiscount'>): number {
  return line.quantity * line.unitPrice - line.lineDiscount;
}

/**
 * The server's totals. Callers validate first ({@link validateSubmission}), so every amount is a
 * non-negative safe integer and no discount exceeds what it discounts.
 */
export function computeTotals(order: Pick<OrderSubmission, 'lines' | 'shippingFee' | 'orderDiscount' | 'currency'>): OrderTotals {
  const itemsTotal = order.lines.reduce((sum, l) => sum + lineTotal(l), 0);
  return {
    itemsTotal,
    shippingFee: order.shippingFee,
    orderDiscount: order.orderDiscount,
    grandTotal: itemsTotal + order.shippingFee - order.orderDiscount,
    currency: order.currency,
  };
}

function isAmount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_AMOUNT;
}

function nonBlank(s: unknown): s is string {
  return typeof s === 'string' && s.trim().length > 0;
}

/**
 * Checks the invariants of a submitted order that the type system cannot: lines present, ids
 * unique, quantities positive integers, amounts non-negative integer fen, discounts not larger
 * than what they discount, a known channel, an ISO placed-at. Throws ORDER_INVALID naming the field.
 */
/** One unit weighs at most 1 t (a unit weight above is a unit mistake: kg read as g). */
export const MAX_UNIT_WEIGHT_GRAMS = 1_000_000;
/** Fulfillment's carrier codes (carrier-rules.yaml): JD, SF, ZTO, SIM ... */
export const CARRIER_CODE = /^[A-Z][A-Z0-9_]{1,31}$/;

export function validateSubmission(o: OrderSubmission): void {
  if (!(CHANNELS as readonly string[]).includes(o.channel)) throw OrderErrors.invalid('channel', `unknown channel ${String(o.channel)}`);
  if (!nonBlank(o.channelOrderId)) throw OrderErrors.invalid('channelOrderId', 'must not be empty');
  if (!nonBlank(o.shopId)) throw OrderErrors.invalid('shopId', 'must not be empty');
  if (!/^[A-Z]{3}$/.test(o.currency) || !ISO_4217.has(o.currency)) throw OrderErrors.invalid('currency', 'must be an ISO-4217 code such as CNY');
  if (!Array.isArray(o.lines) || o.lines.length === 0) throw OrderErrors.invalid('lines', 'an order needs at least one line');
  if (o.lines.length > MAX_LINES) throw OrderErrors.invalid('lines', `at most ${MAX_LINES} lines`);
  const seen = new Set<string>();
  o.lines.forEach((l, i) => {
    const f = (name: string) => `lines[${i}].${name}`;
    if (!nonBlank(l.lineId)) throw OrderErrors.invalid(f('lineId'), 'must not be empty');
    if (seen.has(l.lineId)) throw OrderErrors.invalid(f('lineId'), `duplicate line id ${l.lineId}`);
    seen.add(l.lineId);
    if (!nonBlank(l.sku)) throw OrderErrors.invalid(f('sku'), 'must not be empty');
    if (!Number.isSafeInteger(l.quantity) || l.quantity <= 0) throw OrderErrors.invalid(f('quantity'), 'must be an integer greater than 0');
    if (l.quantity > 100_000) throw OrderErrors.invalid(f('quantity'), 'must be at most 100000');
    if (!isAmount(l.unitPrice)) throw OrderErrors.invalid(f('unitPrice'), 'must be a non-negative integer amount in minor units');
    if (!isAmount(l.lineDiscount)) throw OrderErrors.invalid(f('lineDiscount'), 'must be a non-negative integer amount in minor units');
    if (l.quantity * l.unitPrice > MAX_AMOUNT) throw OrderErrors.invalid(f('unitPrice'), 'line amount too large');
    if (l.lineDiscount > l.quantity * l.unitPrice) throw OrderErrors.invalid(f('lineDiscount'), 'must not exceed quantity x unitPrice');
    if (l.unitWeightGrams !== undefined && (!Number.isSafeInteger(l.unitWeightGrams) || l.unitWeightGrams <= 0 || l.unitWeightGrams > MAX_UNIT_WEIGHT_GRAMS)) {
      throw OrderErrors.invalid(f('unitWeightGrams'), `must be an integer number of grams from 1 to ${MAX_UNIT_WEIGHT_GRAMS}`);
    }
  });
  if (o.designatedCarrier !== undefined && !CARRIER_CODE.test(o.designatedCarrier)) {
    throw OrderErrors.invalid('designatedCarrier', 'must be a carrier code: 2-32 upper-case letters, digits or _ (e.g. JD, SF)');
  }
  if (!isAmount(o.shippingFee)) throw OrderErrors.invalid('shippingFee', 'must be a non-negative integer amount in minor units');
  if (!isAmount(o.orderDiscount)) throw OrderErrors.invalid('orderDiscount', 'must be a non-negative integer amount in minor units');
  const items = o.lines.reduce((s, l) => s + lineTotal(l), 0);
  if (items > MAX_AMOUNT) throw OrderErrors.invalid('lines', 'order amount too large');
  if (o.orderDiscount > items + o.shippingFee) throw OrderErrors.invalid('orderDiscount', 'must not exceed items total + shipping fee');
  if (!nonBlank(o.placedAt) || Number.isNaN(Date.parse(o.placedAt))) throw OrderErrors.invalid('placedAt', 'must be an ISO-8601 time');
  const hidden = validateRecipientProtection(o.recipientProtection);
  const a = o.shippingAddress;
  // A field the platform hid is not clear text: it may be empty (encrypted / withheld) or the platform's masked form.
  const hiddenBy = { province: null, city: null, district: null, street: 'address', recipient: 'name', phone: 'phone' } as const;
  for (const k of ['province', 'city', 'district', 'street', 'recipient', 'phone'] as const) {
    const field = hiddenBy[k];
    if (field !== null && hidden.has(field)) {
      if (typeof a?.[k] !== 'string' || a[k].length > 500) throw OrderErrors.invalid(`shippingAddress.${k}`, 'must be at most 500 characters');
      continue;
    }
    if (!nonBlank(a?.[k])) throw OrderErrors.invalid(`shippingAddress.${k}`, 'must not be empty');
  }
}

/** The recipient fields the platform hid; refuses unknown fields, a field in two lists and an over-long oaid. */
function validateRecipientProtection(p: RecipientProtection | undefined): Set<RecipientField> {
  const hidden = new Set<RecipientField>();
  if (p === undefined) return hidden;
  for (const list of ['masked', 'encrypted', 'withheld'] as const) {
    const fields: unknown = p[list];
    if (!Array.isArray(fields)) throw OrderErrors.invalid(`recipientProtection.${list}`, 'must be a list of name, phone, address');
    for (const f of fields as unknown[]) {
      if (!(RECIPIENT_FIELDS as readonly unknown[]).includes(f)) throw OrderErrors.invalid(`recipientProtection.${list}`, `unknown recipient field ${String(f)}`);
      if (hidden.has(f as RecipientField)) throw OrderErrors.invalid(`recipientProtection.${list}`, `${String(f)} is listed twice`);
      hidden.add(f as RecipientField);
    }
  }
  if (hidden.size === 0 && p.oaid === undefined) throw OrderErrors.invalid('recipientProtection', 'names no hidden field and no oaid');
  if (p.oaid !== undefined && (!nonBlank(p.oaid) || p.oaid.length > 200)) throw OrderErrors.invalid('recipientProtection.oaid', 'must be 1-200 characters');
  return hidden;
}

// ---------------------------------------------------------------------------------------------
// Masking: full values stay in the order stream; views and integration events carry these.
// The rules (maskName, maskPhone, ...) live in @flowline/contracts, shared with every service.
// ---------------------------------------------------------------------------------------------

export function customerView(c: CustomerDetails): CustomerRef {
  return {
    ...(c.channelCustomerId !== undefined ? { channelCustomerId: c.channelCustomerId } : {}),
    ...(c.nickname !== undefined ? { nickname: c.nickname } : {}),
    ...(c.name ? { nameMasked: maskName(c.name) } : {}),
    ...(c.phone ? { phoneMasked: maskPhone(c.phone) } : {}),
    ...(c.email ? { email: maskEmail(c.email) } : {}),
    tags: [...c.tags],
  };
}

export function addressView(a: ShippingAddress): AddressView {
  return {
    province: a.province,
    city: a.city,
    district: a.district,
    streetMasked: maskStreet(a.street, a.detail),
    ...(a.postalCode !== undefined ? { postalCode: a.postalCode } : {}),
    recipientMasked: maskName(a.recipient),
    phoneMasked: maskPhone(a.phone),
  };
}

export function lineViews(lines: readonly OrderLineInput[]): OrderLineView[] {
  return lines.map((l) => ({
    lineId: l.lineId,
    sku: l.sku,
    title: l.title,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    lineDiscount: l.lineDiscount,
    ...(l.category !== undefined ? { category: l.category } : {}),
  }));
}
