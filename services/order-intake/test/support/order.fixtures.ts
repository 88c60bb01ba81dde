import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OrderStage } from '@flowline/contracts';
import { anOrderSubmission, commandMetadata, FIXED_NOW } from '@flowline/testing';
import type { OrderCommand, OrderCommandOf, OrderCommandType, RuleDecisionRecord } from '../../src/domain/order.commands';
import type { OrderEvent } from '../../src/domain/order.events';
import { computeTotals, type CanonicalOrder } from '../../src/domain/order.model';
import type { StageOrNone } from '../../src/domain/order-transitions';
import { fixedRuleSet, type RuleSetSource } from '../../src/application/rule-set.source';
import { parseRuleSet } from '../../src/domain/rules/rule-set.parser';

/**
 * Test fixtures for the order decider and policies (imported by *.spec.ts only): the events that
 * bring one order to any stage, and a valid command of every type for that order.
 */

export const ORDER_ID = '01JDGZ6M3V8Q0000000000ORD1';
export const SUBMISSION = anOrderSubmission();
export const ORDER: CanonicalOrder = { ...SUBMISSION, orderId: ORDER_ID, totals: computeTotals(SUBMISSION) };
export const GRAND_TOTAL = ORDER.totals.grandTotal;
export const T = FIXED_NOW;

export const DECISION: RuleDecisionRecord = {
  ruleId: 'approval-large-or-custom',
  ruleSetVersion: '2025.12.1',
  ruleSetHash: 'sha256:0123456789ab',
  decision: 'require_approval',
  params: { chain: 'custom-order' },
};

const orderId = ORDER_ID;
export const ev = {
  placed: (): OrderEvent => ({ type: 'OrderPlaced', data: { orderId, order: ORDER, placedAt: SUBMISSION.placedAt, receivedAt: T } }),
  paid: (): OrderEvent => ({ type: 'OrderPaid', data: { orderId, amount: GRAND_TOTAL, currency: 'CNY', paidAt: T } }),
  reserved: (allLinesReserved = true): OrderEvent => ({
    type: 'OrderStockReserved',
    data: {
      orderId,
      reservationId: 'RES-1',
      allocations: ORDER.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-HZ-01', quantity: allLinesReserved ? l.quantity : l.quantity - 1 })),
      allLinesReserved,
      reservedAt: T,
    },
  }),
  shortage: (): OrderEvent => ({ type: 'OrderStockShortage', data: { orderId, missing: [{ sku: ORDER.lines[0].sku, requested: 2, available: 0 }], reportedAt: T } }),
  approvalRequired: (): OrderEvent => ({
    type: 'OrderApprovalRequired',
    data: { orderId, chain: 'custom-order', ruleId: DECISION.ruleId, ruleSetVersion: DECISION.ruleSetVersion, ruleSetHash: DECISION.ruleSetHash, requiredAt: T },
  }),
  approved: (): OrderEvent => ({ type: 'OrderApproved', data: { orderId, chain: 'custom-order', approvalId: 'APR-1', approvedAt: T } }),
  readyToShip: (): OrderEvent => ({ type: 'OrderReadyToShip', data: { orderId, priority: 'normal', freeShipping: false, requiresQc: false, releasedAt: T } }),
  packed: (): OrderEvent => ({ type: 'OrderPacked', data: { orderId, shipmentId: 'SHP-1', waybillNo: 'SF1234567890', packedAt: T } }),
  shipped: (): OrderEvent => ({ type: 'OrderShipped', data: { orderId, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'SF1234567890', shippedAt: T } }),
  delivered: (): OrderEvent => ({ type: 'OrderDelivered', data: { orderId, deliveredAt: T } }),
  archived: (): OrderEvent => ({ type: 'OrderArchived', data: { orderId, archivedAt: T } }),
  cancelled: (stageAtCancel: OrderStage): OrderEvent => ({ type: 'OrderCancelled', data: { orderId, reason: 'buyer changed mind', stageAtCancel, cancelledAt: T } }),
  refundRequested: (stageAtRequest: OrderStage, amount = GRAND_TOTAL): OrderEvent => ({
    type: 'OrderRefundRequested',
    data: { orderId, amount, reason: 'buyer asked', stageAtRequest, requestedAt: T },
  }),
  refunded: (afterShipment = false, amount = GRAND_TOTAL): OrderEvent => ({ type: 'OrderRefunded', data: { orderId, amount, afterShipment, refundedAt: T } }),
  held: (ruleId?: string): OrderEvent => ({ type: 'OrderPutOnHold', data: { orderId, reason: 'check address', ...(ruleId ? { ruleId } : {}), heldAt: T } }),
  holdReleased: (): OrderEvent => ({ type: 'OrderHoldReleased', data: { orderId, reason: 'address confirmed', releasedAt: T } }),
  exception: (code = 'STOCK_SHORTAGE'): OrderEvent => ({ type: 'OrderExceptionFlagged', data: { orderId, code, reason: 'something is wrong', flaggedAt: T } }),
  exceptionResolved: (): OrderEvent => ({ type: 'OrderExceptionResolved', data: { orderId, reason: 'fixed', resolvedAt: T } }),
};

/** The events that bring the order to `stage` by its usual path. */
export function eventsTo(stage: StageOrNone): OrderEvent[] {
  switch (stage) {
    case 'none':
      return [];
    case 'placed':
      return [ev.placed()];
    case 'paid':
      return [...eventsTo('placed'), ev.paid()];
    case 'stock_reserved':
      return [...eventsTo('paid'), ev.reserved()];
    case 'awaiting_approval':
      return [...eventsTo('stock_reserved'), ev.approvalRequired()];
    case 'ready_to_ship':
      return [...eventsTo('stock_reserved'), ev.readyToShip()];
    case 'packed':
      return [...eventsTo('ready_to_ship'), ev.packed()];
    case 'shipped':
      return [...eventsTo('packed'), ev.shipped()];
    case 'delivered':
      return [...eventsTo('shipped'), ev.delivered()];
    case 'archived':
      return [...eventsTo('delivered'), ev.archived()];
    case 'cancelled':
      return [...eventsTo('paid'), ev.cancelled('paid')];
    case 'refunded':
      return [...eventsTo('paid'), ev.refundRequested('paid'), ev.refunded()];
  }
}

const meta = () => commandMetadata();

/** A command of `type` whose data is valid for the fixture order in `stage`. */
export function validCommand<T extends OrderCommandType>(type: T, stage: StageOrNone = 'placed'): OrderCommandOf<T> {
  return anyValidCommand(type, stage) as OrderCommandOf<T>;
}

function anyValidCommand(type: OrderCommandType, stage: StageOrNone): OrderCommand {
  const afterShipment = stage === 'shipped' || stage === 'delivered';
  switch (type) {
    case 'PlaceOrder':
      return { type, data: { orderId, order: SUBMISSION }, metadata: meta() };
    case 'ConfirmPayment':
      return { type, data: { orderId, amount: GRAND_TOTAL, currency: 'CNY', paymentRef: 'ALIPAY-2025112522001' }, metadata: meta() };
    case 'RecordStockReserved':
      return {
        type,
        data: { orderId, reservationId: 'RES-1', allocations: ORDER.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-HZ-01', quantity: l.quantity })) },
        metadata: meta(),
      };
    case 'RecordStockShortage':
      return { type, data: { orderId, missing: [{ sku: ORDER.lines[0].sku, requested: 2, available: 1 }] }, metadata: meta() };
    case 'RequireApproval':
      return { type, data: { orderId, chain: 'custom-order', decision: DECISION, decisions: [DECISION] }, metadata: meta() };
    case 'RecordApproval':
      return { type, data: { orderId, approvalId: 'APR-1', chain: 'custom-order' }, metadata: meta() };
    case 'RecordRejection':
      return { type, data: { orderId, approvalId: 'APR-1', chain: 'custom-order', reason: 'price too low', rejectedBy: 'gm-wang' }, metadata: meta() };
    case 'ReleaseToFulfillment':
      return { type, data: { orderId, priority: 'normal', freeShipping: false, requiresQc: false, decisions: [] }, metadata: meta() };
    case 'RecordPacked':
      return { type, data: { orderId, shipmentId: 'SHP-1', waybillNo: 'SF1234567890' }, metadata: meta() };
    case 'RecordShipped':
      return { type, data: { orderId, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'SF1234567890' }, metadata: meta() };
    case 'RecordDelivered':
      return { type, data: { orderId, deliveredAt: T }, metadata: meta() };
    case 'ApplyChange':
      return {
        type,
        data: {
          orderId,
          approvalId: 'APR-C1',
          changeRequestId: 'APR-C1',
          added: [{ lineId: 'L-ADD', sku: 'TEA-CUP-01', title: '配套茶杯', quantity: 2, unitPrice: 8800, lineDiscount: 0 }],
          removed: [],
          quantities: [],
          reservationId: 'chg-APR-C1',
          allocations: [{ lineId: 'L-ADD', sku: 'TEA-CUP-01', warehouseId: 'WH-HZ-01', quantity: 2 }],
          ...(stage === 'packed' ? { reopen: true } : {}),
        },
        metadata: meta(),
      };
    case 'RefuseChange':
      return { type, data: { orderId, approvalId: 'APR-C1', changeRequestId: 'APR-C1', reason: 'the order is packed' }, metadata: meta() };
    case 'Archive':
      return { type, data: { orderId }, metadata: meta() };
    case 'Cancel':
      return { type, data: { orderId, reason: 'buyer changed mind' }, metadata: meta() };
    case 'RequestRefund':
      return { type, data: { orderId, amount: afterShipment ? 1000 : GRAND_TOTAL, reason: 'buyer asked' }, metadata: meta() };
    case 'RecordRefunded':
      return { type, data: { orderId, amount: afterShipment ? 1000 : GRAND_TOTAL }, metadata: meta() };
    case 'PlaceHold':
      return { type, data: { orderId, reason: 'check address' }, metadata: meta() };
    case 'ReleaseHold':
      return { type, data: { orderId, reason: 'address confirmed' }, metadata: meta() };
    case 'FlagException':
      return { type, data: { orderId, code: 'MANUAL', reason: 'customer complaint' }, metadata: meta() };
    case 'ResolveException':
      return { type, data: { orderId, reason: 'complaint handled' }, metadata: meta() };
  }
}

/** The shipped flow rules (rules/default.rules.yaml), fixed: what the handlers react with in tests. */
export const defaultRules: RuleSetSource = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../../rules/default.rules.yaml'), 'utf8')));
