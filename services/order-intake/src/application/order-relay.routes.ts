import { maskName, Topics, type OrderEventDataMap, type OrderEventType } from '@flowline/contracts';
import { assertNever } from '@flowline/domain';
import type { RecordedEvent } from '@flowline/eventstore';
import { ORDER_STREAM_PREFIX, type OrderEvent } from '../domain/order.events';
import { addressView, customerView, lineViews } from '../domain/order.model';
import { PROCESS_STREAM_PREFIX } from './order-store.port';

/**
 * What the relay publishes from order-intake's log:
 * - `order-<id>` stream events -> `orders.events.v1`, keyed by order id, as the integration events
 *   of libs/contracts (OrderEventDataMap): PII masked, internal fields dropped;
 * - `process-<id>` stream entries (the process manager's outbox) -> the command topic of the
 *   context they address, keyed by order id.
 */
export interface Route {
  topic: string;
  key: string;
  type: string;
  data: unknown;
}

const COMMAND_TOPICS: Record<string, string> = {
  ReserveStock: Topics.inventoryCommands,
  ReleaseStock: Topics.inventoryCommands,
  CommitStock: Topics.inventoryCommands,
  RequestApproval: Topics.approvalCommands,
  WithdrawApproval: Topics.approvalCommands,
  StartFulfillment: Topics.fulfillmentCommands,
  StopFulfillment: Topics.fulfillmentCommands,
  HoldFulfillment: Topics.fulfillmentCommands,
  ResumeFulfillment: Topics.fulfillmentCommands,
};

export function routeRecorded(recorded: Pick<RecordedEvent, 'streamId' | 'type' | 'data'>): Route | null {
  if (recorded.streamId.startsWith(ORDER_STREAM_PREFIX)) {
    const event = { type: recorded.type, data: recorded.data } as OrderEvent;
    return { topic: Topics.orderEvents, key: event.data.orderId, type: event.type, data: toIntegrationEvent(event) };
  }
  if (recorded.streamId.startsWith(PROCESS_STREAM_PREFIX)) {
    const topic = COMMAND_TOPICS[recorded.type];
    if (!topic) return null;
    return { topic, key: (recorded.data as { orderId: string }).orderId, type: recorded.type, data: recorded.data };
  }
  return null;
}

type Integration = { [K in OrderEventType]: OrderEventDataMap[K] }[OrderEventType];

/** The published form of a stored order event (same name, masked and trimmed payload). */
export function toIntegrationEvent(event: OrderEvent): Integration {
  const d = event.data;
  switch (event.type) {
    case 'OrderPlaced': {
      const o = event.data.order;
      return {
        orderId: d.orderId,
        channel: o.channel,
        channelOrderId: o.channelOrderId,
        shopId: o.shopId,
        customer: customerView(o.customer),
        shippingAddress: addressView(o.shippingAddress),
        lines: lineViews(o.lines),
        totals: o.totals,
        ...(o.buyerMessage !== undefined ? { buyerMessage: o.buyerMessage } : {}),
        tags: o.tags,
        attachments: o.attachments,
        placedAt: o.placedAt,
        ...(o.recipientProtection !== undefined ? { recipientProtection: o.recipientProtection } : {}),
        ...(o.paymentMethod !== undefined ? { paymentMethod: o.paymentMethod } : {}),
        ...(o.presale !== undefined ? { presale: o.presale } : {}),
      } satisfies OrderEventDataMap['OrderPlaced'];
    }
    case 'OrderPaid': {
      const { amount, currency, paymentRef, presalePart, changeRequestId, paidAt, reportedPaidAt } = event.data;
      return {
        orderId: d.orderId,
        amount,
        currency,
        ...(paymentRef ? { paymentRef } : {}),
        ...(presalePart ? { presalePart } : {}),
        ...(changeRequestId ? { changeRequestId } : {}),
        paidAt,
        ...(reportedPaidAt ? { reportedPaidAt } : {}),
      } satisfies OrderEventDataMap['OrderPaid'];
    }
    case 'OrderStockReserved':
      return { orderId: d.orderId, reservationId: event.data.reservationId, allocations: event.data.allocations } satisfies OrderEventDataMap['OrderStockReserved'];
    case 'OrderStockShortage':
      return { orderId: d.orderId, missing: event.data.missing } satisfies OrderEventDataMap['OrderStockShortage'];
    case 'OrderRuleDecided': {
      const { ruleId, ruleSetVersion, ruleSetHash, decision, params } = event.data;
      return { orderId: d.orderId, ruleId, ruleSetVersion, ruleSetHash, decision, ...(params ? { params } : {}) } satisfies OrderEventDataMap['OrderRuleDecided'];
    }
    case 'OrderApprovalRequired': {
      const { chain, ruleId, ruleSetVersion, ruleSetHash } = event.data;
      return { orderId: d.orderId, chain, ruleId, ruleSetVersion, ruleSetHash } satisfies OrderEventDataMap['OrderApprovalRequired'];
    }
    case 'OrderApproved':
      return { orderId: d.orderId, chain: event.data.chain, approvalId: event.data.approvalId } satisfies OrderEventDataMap['OrderApproved'];
    case 'OrderApprovalRejected': {
      const { chain, approvalId, reason, rejectedBy } = event.data;
      return { orderId: d.orderId, chain, approvalId, reason, ...(rejectedBy ? { rejectedBy } : {}) } satisfies OrderEventDataMap['OrderApprovalRejected'];
    }
    case 'OrderReadyToShip': {
      const { priority, freeShipping, requiresQc } = event.data;
      return { orderId: d.orderId, priority, freeShipping, requiresQc } satisfies OrderEventDataMap['OrderReadyToShip'];
    }
    case 'OrderPacked':
      return { orderId: d.orderId, shipmentId: event.data.shipmentId, ...(event.data.waybillNo ? { waybillNo: event.data.waybillNo } : {}) } satisfies OrderEventDataMap['OrderPacked'];
    case 'OrderShipped': {
      const { shipmentId, carrier, trackingNumber, shippedAt } = event.data;
      return { orderId: d.orderId, shipmentId, carrier, trackingNumber, shippedAt } satisfies OrderEventDataMap['OrderShipped'];
    }
    case 'OrderDelivered':
      return { orderId: d.orderId, deliveredAt: event.data.deliveredAt } satisfies OrderEventDataMap['OrderDelivered'];
    case 'OrderArchived':
      return { orderId: d.orderId } satisfies OrderEventDataMap['OrderArchived'];
    case 'OrderCancelled':
      return { orderId: d.orderId, reason: event.data.reason, stageAtCancel: event.data.stageAtCancel } satisfies OrderEventDataMap['OrderCancelled'];
    case 'OrderRefundRequested': {
      const { amount, reason, stageAtRequest } = event.data;
      return { orderId: d.orderId, amount, reason, stageAtRequest } satisfies OrderEventDataMap['OrderRefundRequested'];
    }
    case 'OrderRefunded':
      return { orderId: d.orderId, amount: event.data.amount, afterShipment: event.data.afterShipment } satisfies OrderEventDataMap['OrderRefunded'];
    case 'OrderPutOnHold':
      return { orderId: d.orderId, reason: event.data.reason, ...(event.data.ruleId ? { ruleId: event.data.ruleId } : {}) } satisfies OrderEventDataMap['OrderPutOnHold'];
    case 'OrderHoldReleased':
      return { orderId: d.orderId, reason: event.data.reason } satisfies OrderEventDataMap['OrderHoldReleased'];
    case 'OrderExceptionFlagged': {
      const { code, reason, details } = event.data;
      return { orderId: d.orderId, code, reason, ...(details ? { details } : {}) } satisfies OrderEventDataMap['OrderExceptionFlagged'];
    }
    case 'OrderExceptionResolved':
      return { orderId: d.orderId, reason: event.data.reason } satisfies OrderEventDataMap['OrderExceptionResolved'];
    case 'OrderChanged': {
      const { approvalId, changeRequestId, lines, totals, changes, priceDifference, reservationId, allocations, reopenedShipmentId, shippingAddress, shippingMethod, invoice } = event.data;
      return {
        orderId: d.orderId,
        approvalId,
        changeRequestId,
        lines: lines.map((l) => ({ lineId: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: l.lineDiscount, ...(l.category ? { category: l.category } : {}) })),
        totals,
        changes,
        priceDifference,
        ...(reservationId ? { reservationId } : {}),
        ...(allocations ? { allocations } : {}),
        ...(reopenedShipmentId ? { reopenedShipmentId } : {}),
        // Masked: the clear address stays in order-intake.
        ...(shippingAddress ? { shippingAddress: addressView(shippingAddress) } : {}),
        ...(shippingMethod ? { shippingMethod } : {}),
        ...(invoice ? { invoice: { type: invoice.type, titleMasked: invoice.type === 'personal' ? maskName(invoice.title) : invoice.title, ...(invoice.taxId ? { taxId: invoice.taxId } : {}) } } : {}),
      } satisfies OrderEventDataMap['OrderChanged'];
    }
    case 'OrderChangeRefused': {
      const { approvalId, changeRequestId, reason, stage, shipmentId } = event.data;
      return { orderId: d.orderId, approvalId, changeRequestId, reason, stage, ...(shipmentId ? { shipmentId } : {}) } satisfies OrderEventDataMap['OrderChangeRefused'];
    }
    case 'OrderPaymentDue': {
      const { approvalId, changeRequestId, amount, priceDifference, currency } = event.data;
      return { orderId: d.orderId, approvalId, changeRequestId, amount, priceDifference, currency } satisfies OrderEventDataMap['OrderPaymentDue'];
    }
    case 'OrderPartialRefundRequested': {
      const { approvalId, changeRequestId, amount, priceDifference, currency, reason } = event.data;
      return { orderId: d.orderId, approvalId, changeRequestId, amount, priceDifference, currency, reason } satisfies OrderEventDataMap['OrderPartialRefundRequested'];
    }
    case 'OrderPartialRefunded':
      return { orderId: d.orderId, changeRequestId: event.data.changeRequestId, amount: event.data.amount } satisfies OrderEventDataMap['OrderPartialRefunded'];
    case 'OrderPiiRevealed':
      // Published: it names fields and a reason, never a value, and tracking's audit trail needs it.
      return { orderId: d.orderId, fields: event.data.fields, reason: event.data.reason, revealedAt: event.data.revealedAt } satisfies OrderEventDataMap['OrderPiiRevealed'];
    default:
      return assertNever(event, 'order event');
  }
}
