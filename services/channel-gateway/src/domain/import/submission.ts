import type { OrderSubmission } from '@flowline/contracts';
import type { ChannelOrderDraft } from './map-orders';

/** Written where a platform masked or encrypted a field: a marker, never a guess at the clear value. */
export const PROTECTED_TEXT = '[加密]';
/** Phone placeholder for a masked / encrypted number (order-intake requires digits); the order carries the `pii:*` tag. */
export const PROTECTED_PHONE = '00000000000';

/** Tags order-intake keeps on the order so rules and people see the recipient is not clear text. */
export function piiTags(d: ChannelOrderDraft): string[] {
  const states = Object.values(d.pii);
  const tags: string[] = [];
  if (states.includes('encrypted')) tags.push('pii:encrypted');
  if (states.includes('masked')) tags.push('pii:masked');
  return tags;
}

/**
 * The canonical order order-intake's PlaceOrder takes. Totals come out equal to what the buyer
 * paid: lines at their unit price, the platform's and the shop's discounts together as the order
 * discount (the split is kept in channel-gateway for reconciliation).
 */
export function toSubmission(d: ChannelOrderDraft): OrderSubmission {
  const nameClear = d.pii.name === 'clear';
  const phoneClear = d.pii.phone === 'clear';
  const recipient = d.pii.name === 'masked' ? d.recipient : nameClear ? d.recipient : PROTECTED_TEXT;
  const phone = phoneClear ? d.phone : PROTECTED_PHONE;
  const a = d.address;
  return {
    channel: d.channel,
    channelOrderId: d.channelOrderId,
    shopId: d.shopId,
    customer: {
      ...(d.buyerId ? { channelCustomerId: d.buyerId } : {}),
      ...(d.buyerNick ? { nickname: d.buyerNick } : {}),
      ...(nameClear ? { name: d.recipient } : {}),
      ...(phoneClear ? { phone: d.phone } : {}),
      tags: [],
    },
    shippingAddress: {
      province: a?.province || PROTECTED_TEXT,
      city: a?.city || PROTECTED_TEXT,
      district: a?.district || a?.city || PROTECTED_TEXT,
      // Exports with a separate street column often leave it empty and put everything in the detail.
      street: a?.street || a?.detail || PROTECTED_TEXT,
      detail: a?.street ? a.detail : '',
      recipient: recipient || PROTECTED_TEXT,
      phone,
    },
    lines: d.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: 0 })),
    shippingFee: d.money.shippingFee,
    orderDiscount: d.money.orderDiscount,
    currency: 'CNY',
    ...(d.buyerMessage ? { buyerMessage: d.buyerMessage.slice(0, 500) } : {}),
    ...(d.sellerRemark ? { sellerRemark: d.sellerRemark.slice(0, 500) } : {}),
    tags: piiTags(d),
    attachments: [],
    placedAt: d.placedAt,
  };
}
