import type { OrderSubmission, RecipientField, RecipientProtection } from '@flowline/contracts';
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
