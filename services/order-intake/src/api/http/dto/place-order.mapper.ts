import type { OrderSubmission } from '@flowline/contracts';
import type { PlaceOrderDto } from './place-order.dto';

/** A validated request body as the canonical submission: defaults filled, server-made line ids. */
export function toSubmission(dto: PlaceOrderDto, now: string): OrderSubmission {
  const c = dto.customer;
  const a = dto.shippingAddress;
  return {
    channel: dto.channel,
    channelOrderId: dto.channelOrderId,
    shopId: dto.shopId,
    customer: {
      ...(c.channelCustomerId ? { channelCustomerId: c.channelCustomerId } : {}),
      ...(c.nickname ? { nickname: c.nickname } : {}),
      ...(c.name ? { name: c.name } : {}),
      ...(c.phone ? { phone: c.phone } : {}),
      ...(c.email ? { email: c.email } : {}),
      tags: c.tags ?? [],
    },
    shippingAddress: {
      province: a.province,
      city: a.city,
      district: a.district,
      street: a.street,
      detail: a.detail ?? '',
      ...(a.postalCode ? { postalCode: a.postalCode } : {}),
      recipient: a.recipient,
      phone: a.phone,
    },
    lines: dto.lines.map((l, i) => ({
      lineId: l.lineId || `L${i + 1}`,
      sku: l.sku,
      title: l.title,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      lineDiscount: l.lineDiscount ?? 0,
      ...(l.category ? { category: l.category } : {}),
      ...(l.unitWeightGrams !== undefined ? { unitWeightGrams: l.unitWeightGrams } : {}),
    })),
    shippingFee: dto.shippingFee ?? 0,
    orderDiscount: dto.orderDiscount ?? 0,
    currency: dto.currency || 'CNY',
    ...(dto.buyerMessage ? { buyerMessage: dto.buyerMessage } : {}),
    ...(dto.sellerRemark ? { sellerRemark: dto.sellerRemark } : {}),
    tags: dto.tags ?? [],
    attachments: dto.attachments ?? [],
    placedAt: dto.placedAt || now,
    ...(dto.recipientProtection
      ? {
          recipientProtection: {
            masked: dto.recipientProtection.masked ?? [],
            encrypted: dto.recipientProtection.encrypted ?? [],
            withheld: dto.recipientProtection.withheld ?? [],
            ...(dto.recipientProtection.oaid ? { oaid: dto.recipientProtection.oaid } : {}),
          },
        }
      : {}),
    ...(dto.paymentMethod ? { paymentMethod: dto.paymentMethod } : {}),
    ...(dto.designatedCarrier ? { designatedCarrier: dto.designatedCarrier } : {}),
    ...(dto.presale ? { presale: { depositAmount: dto.presale.depositAmount, balanceDueBy: dto.presale.balanceDueBy, shipNotBefore: dto.presale.shipNotBefore } } : {}),
  };
}
