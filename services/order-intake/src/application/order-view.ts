import type { AddressView, Channel, CustomerRef, OrderFlag, OrderLineView, OrderStage, OrderTotals, RecipientProtection } from '@flowline/contracts';
import { allowedCommands } from '../domain/order-transitions';
import type { OrderCommandType } from '../domain/order.commands';
import { addressView, customerView, lineViews } from '../domain/order.model';
import type { ExistingOrder } from '../domain/order.state';

/**
 * An order as the API shows it: personal data masked (the full values never leave the service),
 * money in integer fen, and `revision` (also the ETag) to send back as If-Match.
 */
export interface OrderView {
  orderId: string;
  channel: Channel;
  channelOrderId: string;
  shopId: string;
  stage: OrderStage;
  flags: OrderFlag[];
  hold: { reason: string; ruleId?: string; since: string } | null;
  exception: { code: string; reason: string; details?: Record<string, unknown>; since: string } | null;
  customer: CustomerRef;
  shippingAddress: AddressView;
  lines: OrderLineView[];
  totals: OrderTotals;
  buyerMessage?: string;
  sellerRemark?: string;
  tags: string[];
  attachments: string[];
  placedAt: string;
  /** Present when the platform hid recipient fields: resolve the recipient through the platform (decrypt API / oaid), never guess. */
  recipientProtection?: RecipientProtection;
  updatedAt: string;
  revision: number;
  payment: { amount: number; currency: string; paymentRef?: string; paidAt: string; reportedPaidAt?: string } | null;
  refund: { pending: { amount: number; reason: string; requestedAt: string } | null; refundedTotal: number };
  approval: { chain: string; status: 'pending' | 'granted' | 'rejected'; ruleId: string; ruleSetVersion: string } | null;
  fulfillment: { priority: 'normal' | 'high'; freeShipping: boolean; requiresQc: boolean; releasedAt: string } | null;
  shipment: { shipmentId: string; waybillNo?: string; carrier?: string; trackingNumber?: string; deliveredAt?: string } | null;
  cancellation: { reason: string; stageAtCancel: OrderStage; cancelledAt: string } | null;
  /** Flow-rule decisions on this order: which rule of which rule-set version decided what. */
  decisions: { ruleId: string; ruleSetVersion: string; decision: string; decidedAt: string }[];
  /** Commands the transition table allows in the current stage (flags and guards may still refuse). */
  allowedCommands: OrderCommandType[];
}

export function toOrderView(s: ExistingOrder, revision: number, updatedAt: string): OrderView {
  const o = s.order;
  return {
    orderId: s.orderId,
    channel: o.channel,
    channelOrderId: o.channelOrderId,
    shopId: o.shopId,
    stage: s.status,
    flags: [...(s.hold ? (['on_hold'] as const) : []), ...(s.exception ? (['exception'] as const) : [])],
    hold: s.hold,
    exception: s.exception,
    customer: customerView(o.customer),
    shippingAddress: addressView(o.shippingAddress),
    lines: lineViews(o.lines),
    totals: o.totals,
    ...(o.buyerMessage !== undefined ? { buyerMessage: o.buyerMessage } : {}),
    ...(o.sellerRemark !== undefined ? { sellerRemark: o.sellerRemark } : {}),
    tags: o.tags,
    attachments: o.attachments,
    placedAt: o.placedAt,
    ...(o.recipientProtection !== undefined ? { recipientProtection: o.recipientProtection } : {}),
    updatedAt,
    revision,
    payment: s.payment,
    refund: { pending: s.refund.pending ? { amount: s.refund.pending.amount, reason: s.refund.pending.reason, requestedAt: s.refund.pending.requestedAt } : null, refundedTotal: s.refund.refundedTotal },
    approval: s.approval ? { chain: s.approval.chain, status: s.approval.status, ruleId: s.approval.ruleId, ruleSetVersion: s.approval.ruleSetVersion } : null,
    fulfillment: s.release,
    shipment: s.shipment ? { shipmentId: s.shipment.shipmentId, waybillNo: s.shipment.waybillNo, carrier: s.shipment.carrier, trackingNumber: s.shipment.trackingNumber, deliveredAt: s.shipment.deliveredAt } : null,
    cancellation: s.status === 'cancelled' ? s.cancellation : null,
    decisions: s.decisions.map((d) => ({ ruleId: d.ruleId, ruleSetVersion: d.ruleSetVersion, decision: d.decision, decidedAt: d.decidedAt })),
    allowedCommands: allowedCommands(s.status),
  };
}
