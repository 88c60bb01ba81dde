import { createHash } from 'node:crypto';
import type {
  ApprovalCommandDataMap,
  ApprovalEventDataMap,
  FulfillmentCommandDataMap,
  FulfillmentEventDataMap,
  InventoryCommandDataMap,
  InventoryEventDataMap,
  OrderCommandDataMap,
  OrderEventDataMap,
  OrderStage,
} from '@flowline/contracts';
import type { OrderCommandType, UnstampedOrderCommand } from '../order.commands';
import { isPreShipment } from '../order-transitions';
import { changePaymentDue, isCod, isExisting, presaleBalanceDue, presaleSettled, refundable, type ExistingOrder, type OrderState } from '../order.state';
import { auditOrder, holdOnArrival } from '../rules/rule-engine';
import type { RuleSet } from '../rules/rule-set';

/**
 * The order process manager's logic, pure: an event from orders, inventory, approval or
 * fulfillment, plus the order's current state and the rule set in force, gives the next steps.
 * The runner (application/process-manager.runner.ts) loads the state, calls this, applies the
 * order steps to the order stream and stores the `send` steps in the outbox.
 *
 * Every step names its compensation: the command that undoes it if the order is later cancelled
 * or refunded before shipment (the compensation the policy then issues on OrderCancelled /
 * OrderRefundRequested). Facts recorded on the order have none: a fact is not undone.
 *
 * Reading the state makes each reaction safe to repeat: a redelivered event that finds the
 * order already past the point it would move it to yields no step.
 */

type Message<Ctx extends string, M> = { [K in keyof M & string]: { context: Ctx; type: K; data: M[K] } }[keyof M & string];

/** Everything the process manager reacts to. */
export type ProcessEvent =
  | Message<'orders', OrderEventDataMap>
  | Message<'inventory', InventoryEventDataMap>
  | Message<'approval', ApprovalEventDataMap>
  /** approval's private command on orders.commands.v1 (a change carrying a new address / invoice). */
  | Message<'approval', OrderCommandDataMap>
  | Message<'fulfillment', FulfillmentEventDataMap>;

/** A command to another context, published on `<context>.commands.v1` keyed by orderId. */
export type OutgoingCommand =
  | Message<'inventory', InventoryCommandDataMap>
  | Message<'approval', ApprovalCommandDataMap>
  | Message<'fulfillment', FulfillmentCommandDataMap>;

export type ProcessStep =
  | { kind: 'order'; command: UnstampedOrderCommand; compensation: OrderCommandType | null; why: string }
  | { kind: 'send'; command: OutgoingCommand; compensation: OutgoingCommand | null; why: string };

export interface ProcessContext {
  order: OrderState;
  rules: RuleSet;
  /** The runner's clock (ISO): a presale order is released only from its ship date on. Absent: a presale order is not released. */
  now?: string;
}

/** Exception codes the process manager raises (stable: dashboards and the exception rate count them). */
export const ProcessExceptionCode = {
  StockShortage: 'STOCK_SHORTAGE',
  ReservationTimeout: 'RESERVATION_TIMEOUT',
  AuditBlocked: 'AUDIT_BLOCKED',
  ShippedAfterRefundRequest: 'SHIPPED_AFTER_REFUND_REQUEST',
  ShippedAfterCancel: 'SHIPPED_AFTER_CANCEL',
  CarrierException: 'CARRIER_EXCEPTION',
} as const;

/** Fulfillment's merge (合单) keys: the shop and one-way hashes of the buyer and the normalised address (no PII on the topic). */
function mergeKeysOf(s: ExistingOrder): { shopId: string; buyerKey?: string; addressKey: string } {
  const norm = (v: string | undefined) => (v ?? '').replace(/\s+/g, '').toLowerCase();
  const hash = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 32);
  const c = s.order.customer;
  const a = s.order.shippingAddress;
  const buyer = norm(c.channelCustomerId) || norm(c.nickname);
  return { shopId: s.order.shopId, ...(buyer ? { buyerKey: hash(`${s.order.channel}|${buyer}`) } : {}), addressKey: hash([a.province, a.city, a.district, a.street, a.detail, a.recipient, a.phone].map(norm).join('|')) };
}

const order = (command: UnstampedOrderCommand, compensation: OrderCommandType | null, why: string): ProcessStep => ({ kind: 'order', command, compensation, why });
const send = (command: OutgoingCommand, compensation: OutgoingCommand | null, why: string): ProcessStep => ({ kind: 'send', command, compensation, why });

const releaseStock = (orderId: string, reason: string): OutgoingCommand => ({ context: 'inventory', type: 'ReleaseStock', data: { orderId, reason } });
const stopFulfillment = (orderId: string, reason: string): OutgoingCommand => ({ context: 'fulfillment', type: 'StopFulfillment', data: { orderId, reason } });
const withdrawApproval = (orderId: string, reason: string): OutgoingCommand => ({ context: 'approval', type: 'WithdrawApproval', data: { orderId, reason } });

const holdFulfillment = (orderId: string, reason: string): OutgoingCommand => ({ context: 'fulfillment', type: 'HoldFulfillment', data: { orderId, reason } });
const resumeFulfillment = (orderId: string, reason: string): OutgoingCommand => ({ context: 'fulfillment', type: 'ResumeFulfillment', data: { orderId, reason } });

/** Released to the warehouse and not shipped yet: a hold or flag must reach fulfillment to stop picking, packing and shipping. */
function inWarehouse(s: ExistingOrder): boolean {
  return (s.status === 'ready_to_ship' || s.status === 'packed') && !!s.release;
}

/** Can the order move on by our own decision (no flag, no open refund)? */
function movable(s: ExistingOrder): boolean {
  return !s.hold && !s.exception && !s.refund.pending;
}

export function orderProcessPolicy(event: ProcessEvent, ctx: ProcessContext): ProcessStep[] {
  const s = ctx.order;
  if (!isExisting(s)) return [];
  const orderId = s.orderId;
  switch (event.context) {
    case 'orders':
      switch (event.type) {
        case 'OrderPlaced': {
          // Cash on delivery: reserved at once, unpaid. Any other order is reserved on OrderPaid
          // (which may already be recorded here: reserving now too would ask twice).
          const held = holdIfRulesSay(s, ctx.rules);
          return held.length > 0 || !isCod(s) || s.status !== 'placed' ? held : reserveIfDue(s);
        }
        case 'OrderPaid':
          // A presale balance (尾款) may be what the order waited for to ship.
          if (event.data.presalePart === 'balance') return auditIfDue(s, ctx.rules, ctx.now);
          // A change's price difference paid after release: fulfillment, stopped for it, packs the changed order.
          if (event.data.changeRequestId) return s.status === 'ready_to_ship' && s.release && changePaymentDue(s) === 0 ? [startFulfillment(s, 'change payment received -> the changed order is packed')] : [];
          return reserveIfDue(s);
        case 'OrderDelivered':
          // Cash on delivery (货到付款): the carrier collected the grand total at the door.
          if (!isCod(s) || s.status !== 'delivered' || s.payment) return [];
          return [
            order(
              {
                type: 'ConfirmPayment',
                data: { orderId, amount: s.order.totals.grandTotal, currency: s.order.totals.currency, paymentRef: `cod:${s.shipment?.shipmentId ?? orderId}` },
              },
              null,
              'COD parcel delivered -> the collected amount is recorded as the payment',
            ),
          ];
        case 'OrderStockShortage':
          if (!awaitsStock(s) || s.reservation || s.exception || !s.shortage) return [];
          return [
            order(
              {
                type: 'FlagException',
                data: { orderId, code: ProcessExceptionCode.StockShortage, reason: 'inventory could not reserve every line', details: { missing: s.shortage.missing } },
              },
              'ResolveException',
              'shortage -> exception with the missing lines (a person restocks or cancels)',
            ),
          ];
        case 'OrderStockReserved':
        case 'OrderApproved':
          return auditIfDue(s, ctx.rules, ctx.now);
        case 'OrderApprovalRequired':
          if (s.status !== 'awaiting_approval' || s.approval?.status !== 'pending') return [];
          return [
            send(
              {
                context: 'approval',
                type: 'RequestApproval',
                data: {
                  orderId,
                  chain: s.approval.chain,
                  ruleId: s.approval.ruleId,
                  ruleSetVersion: s.approval.ruleSetVersion,
                  grandTotal: s.order.totals.grandTotal,
                  currency: s.order.totals.currency,
                },
              },
              withdrawApproval(orderId, 'order cancelled'),
              'a rule requires approval -> ask the approval service',
            ),
          ];
        case 'OrderReadyToShip':
          if (s.status !== 'ready_to_ship' || !s.release) return [];
          return [startFulfillment(s, 'ready to ship -> ask fulfillment to pick and pack')];
        case 'OrderShipped': {
          const steps: ProcessStep[] = [
            send({ context: 'inventory', type: 'CommitStock', data: { orderId } }, null, 'shipped -> reserved units leave stock for good'),
            ...(s.changeReservations ?? []).map((id) => send({ context: 'inventory', type: 'CommitStock', data: { orderId: id } }, null, 'shipped -> the units an approved change added leave stock too')),
          ];
          if (s.refund.pending && isPreShipment(s.refund.pending.stageAtRequest) && !s.exception) {
            steps.push(
              order(
                {
                  type: 'FlagException',
                  data: {
                    orderId,
                    code: ProcessExceptionCode.ShippedAfterRefundRequest,
                    reason: 'the parcel shipped after a refund was requested',
                    details: { stageAtRequest: s.refund.pending.stageAtRequest },
                  },
                },
                'ResolveException',
                'shipped although a refund before shipment was requested -> a person intercepts the parcel',
              ),
            );
          }
          return steps;
        }
        case 'OrderCancelled':
          return compensate(s, event.data.stageAtCancel, 'cancelled', event.data.reason);
        case 'OrderRefundRequested':
          return isPreShipment(event.data.stageAtRequest) ? compensate(s, event.data.stageAtRequest, 'refunded', event.data.reason) : [];
        case 'OrderPutOnHold':
        case 'OrderExceptionFlagged': {
          // Held or flagged in the warehouse: nothing of it is picked, packed or shipped until cleared.
          if (!inWarehouse(s) || movable(s)) return [];
          const reason = event.type === 'OrderPutOnHold' ? `on hold: ${event.data.reason}` : `exception ${event.data.code}: ${event.data.reason}`;
          return [send(holdFulfillment(orderId, reason), null, `${event.type === 'OrderPutOnHold' ? 'hold' : 'exception'} after release -> the warehouse stops this order`)];
        }
        case 'OrderHoldReleased':
        case 'OrderExceptionResolved': {
          // Every flag cleared: the warehouse picks it up where it stopped (a no-op there if it never held).
          const resumed = inWarehouse(s) && movable(s) ? [send(resumeFulfillment(orderId, event.type === 'OrderHoldReleased' ? `hold released: ${event.data.reason}` : `exception resolved: ${event.data.reason}`), null, 'flags cleared -> the warehouse may go on')] : [];
          return [...resumed, ...resume(s, ctx.rules, ctx.now)];
        }
        case 'OrderChanged': {
          // Released already (or re-opened after packing): fulfillment drops what it started and
          // packs the changed order (lines, address, carrier service) again, before any parcel is
          // packed with the old one. A price difference still due keeps it stopped until paid.
          const d = event.data;
          const reopened = d.reopenedShipmentId;
          const forWarehouse = !!reopened || d.changes.added.length + d.changes.removed.length + d.changes.quantities.length > 0 || !!d.shippingAddress || !!d.shippingMethod;
          if (!forWarehouse || s.status !== 'ready_to_ship' || !s.release) return [];
          const steps: ProcessStep[] = [
            reopened
              ? send(stopFulfillment(orderId, `re-opened for an approved change (shipment ${reopened})`), null, 'change applied after packing -> undo the parcel')
              : send(stopFulfillment(orderId, `approved change ${d.changeRequestId} applied before packing`), null, 'change applied before packing -> fulfillment drops the old lines and address'),
          ];
          if (changePaymentDue(s) > 0 && !isCod(s)) return steps;
          return [...steps, startFulfillment(s, 'the changed order is packed again')];
        }
        default:
          return [];
      }
    case 'inventory':
      switch (event.type) {
        case 'StockReserved': {
          const d = event.data;
          if (s.status === 'cancelled' || s.status === 'refunded' || s.status === 'archived') {
            return [send(releaseStock(orderId, `reserved after the order was ${s.status}`), null, 'late reservation for a closed order -> give the units back')];
          }
          if (!awaitsStock(s)) return [];
          const steps: ProcessStep[] = [
            order({ type: 'RecordStockReserved', data: { orderId, reservationId: d.reservationId, allocations: d.allocations } }, null, 'inventory reserved the lines'),
          ];
          if (s.refund.pending) steps.push(send(releaseStock(orderId, 'refunded'), null, 'reserved after a refund was requested -> give the units back'));
          return steps;
        }
        case 'StockShortage':
          if (!awaitsStock(s) || s.reservation) return [];
          return [order({ type: 'RecordStockShortage', data: { orderId, missing: event.data.missing } }, null, 'inventory could not reserve')];
        default:
          return [];
      }
    case 'approval':
      switch (event.type) {
        case 'ChangeApproved':
          // A change with personal data comes on the private command below instead.
          if (event.data.appliedBy === 'command') return [];
          return applyChangeIfOpen(s, event.data);
        case 'ApplyOrderChange': {
          const { shippingAddress, shippingMethod, invoice } = event.data;
          return applyChangeIfOpen(s, { ...event.data, approvedAt: '' }, { ...(shippingAddress ? { shippingAddress } : {}), ...(shippingMethod ? { shippingMethod } : {}), ...(invoice ? { invoice } : {}) });
        }
        case 'ApprovalGranted':
          if (s.status !== 'awaiting_approval' || s.approval?.status !== 'pending' || s.approval.chain !== event.data.chain) return [];
          return [order({ type: 'RecordApproval', data: { orderId, approvalId: event.data.approvalId, chain: event.data.chain } }, null, 'approval granted')];
        case 'ApprovalRejected':
          if (s.status !== 'awaiting_approval' || s.approval?.status !== 'pending' || s.approval.chain !== event.data.chain) return [];
          return [
            order(
              { type: 'RecordRejection', data: { orderId, approvalId: event.data.approvalId, chain: event.data.chain, reason: event.data.reason, rejectedBy: event.data.by } },
              null,
              'approval rejected -> the order is cancelled',
            ),
          ];
        default:
          return [];
      }
    case 'fulfillment':
      switch (event.type) {
        case 'FulfillmentStopped': {
          // A packed parcel pulled after a cancel or refund (intercept confirmed): its units are back
          // on the shelf, the reservation kept for it goes (a repeat is a no-op for inventory).
          const closing = s.status === 'cancelled' || s.status === 'refunded' || (s.refund.pending !== null && isPreShipment(s.refund.pending.stageAtRequest));
          if (!event.data.wasPacked || !closing) return [];
          return releaseAll(s, s.status === 'cancelled' ? 'cancelled' : 'refunded');
        }
        case 'ShipmentPacked':
          if (s.status !== 'ready_to_ship') return [];
          return [order({ type: 'RecordPacked', data: { orderId, shipmentId: event.data.shipmentId, waybillNo: event.data.waybillNo } }, null, 'warehouse packed')];
        case 'ShipmentShipped':
          // Cancelled before shipment, and the parcel left anyway: the units are gone (inventory
          // records the movement on CommitStock) and a person must intercept or recover it.
          if (s.status === 'cancelled' && isPreShipment(s.cancellation.stageAtCancel) && event.data.allShipped !== false) {
            const steps: ProcessStep[] = [];
            if (!s.exception) {
              steps.push(
                order(
                  {
                    type: 'FlagException',
                    data: {
                      orderId,
                      code: ProcessExceptionCode.ShippedAfterCancel,
                      reason: 'the parcel shipped after the order was cancelled',
                      details: { stageAtCancel: s.cancellation.stageAtCancel, shipmentId: event.data.shipmentId, trackingNumber: event.data.trackingNumber },
                    },
                  },
                  'ResolveException',
                  'shipped although cancelled -> a person intercepts the parcel',
                ),
              );
            }
            steps.push(send({ context: 'inventory', type: 'CommitStock', data: { orderId } }, null, 'shipped although cancelled -> the released units left stock all the same'));
            return steps;
          }
          // An order in several parcels is shipped when its last parcel is (allShipped absent: one parcel).
          if (s.status !== 'packed' || event.data.allShipped === false) return [];
          return [
            order(
              {
                type: 'RecordShipped',
                data: {
                  orderId,
                  shipmentId: event.data.shipmentId,
                  carrier: event.data.carrier,
                  trackingNumber: event.data.trackingNumber,
                  ...(event.data.allShipped === true ? { lastOfParcels: true } : {}),
                  ...(event.data.shippedAt ? { shippedAt: event.data.shippedAt } : {}),
                },
              },
              null,
              'carrier took the parcel',
            ),
          ];
        case 'ShipmentDelivered':
          if (s.status !== 'shipped' || event.data.allDelivered === false) return [];
          return [order({ type: 'RecordDelivered', data: { orderId, deliveredAt: event.data.deliveredAt } }, null, 'carrier reports delivery')];
        case 'ShipmentCarrierException':
          if ((s.status !== 'packed' && s.status !== 'shipped') || s.exception) return [];
          return [
            order(
              {
                type: 'FlagException',
                data: {
                  orderId,
                  code: ProcessExceptionCode.CarrierException,
                  reason: `${event.data.carrier}: ${event.data.description}`,
                  details: { shipmentId: event.data.shipmentId, trackingNumber: event.data.trackingNumber, at: event.data.at },
                },
              },
              'ResolveException',
              'the carrier reports a problem with a parcel -> a person looks, with the carrier words',
            ),
          ];
        case 'ReturnReceived': {
          // A return (RMA) received after shipment: the returned units' value is refunded on the
          // order (RequestRefund; the payment side confirms it with RecordRefunded). One refund
          // is open at a time; the same RMA is never asked twice while its refund is open.
          if ((s.status !== 'shipped' && s.status !== 'delivered') || s.refund.pending) return [];
          const amount = Math.min(refundable(s), returnedValue(s.order.lines, event.data.lines));
          if (amount <= 0) return [];
          return [
            order(
              { type: 'RequestRefund', data: { orderId, amount, reason: `return ${event.data.rmaId} received (${unitsBySku(event.data.lines)})` } },
              null,
              'returned units received -> their value is refunded',
            ),
          ];
        }
        default:
          return [];
      }
  }
}

/** `A x2, B x1`: returned units per SKU (conditions summed), for the refund's reason. */
function unitsBySku(lines: readonly { sku: string; quantity: number }[]): string {
  const by = new Map<string, number>();
  for (const l of lines) by.set(l.sku, (by.get(l.sku) ?? 0) + l.quantity);
  return [...by].map(([sku, q]) => `${sku} x${q}`).join(', ');
}

/**
 * The value of returned units: per SKU, the units' price less their share of the line discount
 * (integer fen, rounded down), over the order's lines of that SKU in order. The order-level
 * discount and the shipping fee are not given back for a partial return.
 */
export function returnedValue(
  lines: readonly { sku: string; quantity: number; unitPrice: number; lineDiscount: number }[],
  returned: readonly { sku: string; quantity: number }[],
): number {
  const left = new Map<string, number>();
  for (const r of returned) left.set(r.sku, (left.get(r.sku) ?? 0) + r.quantity);
  let total = 0;
  for (const l of lines) {
    const q = Math.min(l.quantity, left.get(l.sku) ?? 0);
    if (q <= 0) continue;
    left.set(l.sku, (left.get(l.sku) ?? 0) - q);
    total += q * l.unitPrice - Math.floor((l.lineDiscount * q) / l.quantity);
  }
  return total;
}

/** Stages in which an approved change still applies: before packing (the freeze). */
const CHANGEABLE: readonly OrderStage[] = ['placed', 'paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship'];

/**
 * An approved change request: applied as one OrderChanged while the order is not packed yet, else
 * refused (OrderChangeRefused, naming the shipment) so approval gives the change's stock back.
 * The runner re-decides on the new state when packing won the race, so exactly one of the two happens.
 */
function applyChangeIfOpen(
  s: ExistingOrder,
  d: ApprovalEventDataMap['ChangeApproved'],
  details: Pick<OrderCommandDataMap['ApplyOrderChange'], 'shippingAddress' | 'shippingMethod' | 'invoice'> = {},
): ProcessStep[] {
  if (s.changeRequests?.includes(d.changeRequestId)) return [];
  const ids = { orderId: s.orderId, approvalId: d.approvalId, changeRequestId: d.changeRequestId };
  const reopen = s.status === 'packed' && !!d.freezeOverride;
  if (!CHANGEABLE.includes(s.status) && !reopen) {
    const where = s.shipment ? ` (shipment ${s.shipment.shipmentId})` : '';
    return [order({ type: 'RefuseChange', data: { ...ids, reason: `the order is ${s.status}${where}: the approved change is not applied` } }, null, 'change approved too late -> refused, nothing changes')];
  }
  return [
    order(
      {
        type: 'ApplyChange',
        data: {
          ...ids,
          added: d.diff.lines.added.map((l) => ({ lineId: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: l.lineDiscount, ...(l.category ? { category: l.category } : {}) })),
          removed: d.diff.lines.removed.map((l) => l.lineId),
          quantities: d.diff.lines.changed.map((c) => ({ lineId: c.lineId, after: c.after })),
          ...(d.reservationId ? { reservationId: d.reservationId } : {}),
          ...(d.allocations ? { allocations: d.allocations } : {}),
          ...(reopen ? { reopen: true } : {}),
          ...details,
        },
      },
      null,
      reopen ? 'change approved under a manager override of the freeze -> applied, the packed shipment re-opened' : 'change request approved (stock for added units reserved) -> applied as one event',
    ),
  ];
}

/** Pick and pack what the order holds now: its allocations, priority and QC, to its (current) destination. */
/**
 * The one StartFulfillment builder (on ready_to_ship, after a change's payment, after an approved
 * change): the reserved allocations per warehouse with their weight (the line's unit weight from the
 * channel x the allocated quantity; absent: fulfillment's per-SKU table), the inputs of the carrier
 * choice (destination, channel, amount, the platform-designated carrier) and the merge keys.
 */
export function startFulfillmentCommand(s: ExistingOrder): Extract<OutgoingCommand, { type: 'StartFulfillment' }> {
  const unitWeight = new Map(s.order.lines.map((l) => [l.lineId, l.unitWeightGrams]));
  return {
    context: 'fulfillment',
    type: 'StartFulfillment',
    data: {
      orderId: s.orderId,
      lines: (s.reservation?.allocations ?? []).map((a) => {
        const w = unitWeight.get(a.lineId);
        return { lineId: a.lineId, sku: a.sku, quantity: a.quantity, warehouseId: a.warehouseId, ...(w !== undefined ? { weightGrams: w * a.quantity } : {}) };
      }),
      priority: s.release?.priority ?? 'normal',
      requiresQc: s.release?.requiresQc ?? false,
      destination: { province: s.order.shippingAddress.province, city: s.order.shippingAddress.city },
      channel: s.order.channel,
      channelOrderId: s.order.channelOrderId,
      grandTotal: s.order.totals.grandTotal,
      ...(s.order.designatedCarrier ? { designatedCarrier: s.order.designatedCarrier } : {}),
      ...mergeKeysOf(s),
    },
  };
}

function startFulfillment(s: ExistingOrder, why: string): ProcessStep {
  return send(startFulfillmentCommand(s), stopFulfillment(s.orderId, 'order cancelled'), why);
}

function holdIfRulesSay(s: ExistingOrder, rules: RuleSet): ProcessStep[] {
  // The payment may already be recorded when OrderPlaced is handled (the API is faster than the
  // round trip through Kafka); the hold still applies before the reservation is asked for, because
  // OrderPaid comes after OrderPlaced on the order's partition. From stock_reserved on the audit
  // evaluates the same rules.
  if ((s.status !== 'placed' && s.status !== 'paid') || s.reservation || s.hold) return [];
  const hold = holdOnArrival(rules, s);
  if (!hold) return [];
  return [order({ type: 'PlaceHold', data: { orderId: s.orderId, reason: hold.reason, decision: hold.decision } }, 'ReleaseHold', `rule ${hold.decision.ruleId} holds the order for review`)];
}

/** Paid, or cash on delivery (reserved unpaid, at `placed`): the order waits for inventory. */
/** Paid (or cash on delivery, placed): the order's next step is its reservation. */
export function awaitsStock(s: ExistingOrder): boolean {
  return s.status === 'paid' || (s.status === 'placed' && isCod(s));
}

function reserveIfDue(s: ExistingOrder): ProcessStep[] {
  if (!awaitsStock(s) || s.reservation || !movable(s)) return [];
  return [
    send(
      { context: 'inventory', type: 'ReserveStock', data: { orderId: s.orderId, channel: s.order.channel, shopId: s.order.shopId, lines: s.order.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity })) } },
      releaseStock(s.orderId, 'cancelled'),
      isCod(s) && s.status === 'placed' ? 'cash on delivery -> reserve every line unpaid' : 'paid -> reserve every line',
    ),
  ];
}

function auditIfDue(s: ExistingOrder, rules: RuleSet, now?: string): ProcessStep[] {
  const approvedAndWaiting = s.status === 'awaiting_approval' && s.approval?.status === 'granted';
  if ((s.status !== 'stock_reserved' && !approvedAndWaiting) || !movable(s)) return [];
  const outcome = auditOrder(rules, s);
  const orderId = s.orderId;
  switch (outcome.kind) {
    case 'hold':
      return [order({ type: 'PlaceHold', data: { orderId, reason: outcome.reason, decision: outcome.decision } }, 'ReleaseHold', `rule ${outcome.decision.ruleId} holds the order`)];
    case 'approval':
      if (s.status !== 'stock_reserved') return [blocked(orderId, `a second approval chain (${outcome.chain}) is required after ${s.approval?.chain} granted`, [outcome.decision])];
      return [
        order({ type: 'RequireApproval', data: { orderId, chain: outcome.chain, decision: outcome.decision, decisions: outcome.decisions } }, 'Cancel', `rule ${outcome.decision.ruleId} requires chain ${outcome.chain}`),
      ];
    case 'release':
      // Presale: held at stock_reserved until the balance is paid and the ship date has come
      // (the presale timer audits it again at the ship date).
      if (s.order.presale && (now === undefined || !presaleSettled(s, now))) return [];
      return [
        order(
          { type: 'ReleaseToFulfillment', data: { orderId, priority: outcome.priority, freeShipping: outcome.freeShipping, requiresQc: outcome.requiresQc, decisions: outcome.decisions } },
          'Cancel',
          'the audit passed -> ready to ship',
        ),
      ];
    case 'blocked':
      return [blocked(orderId, 'no flow rule released the order', outcome.decisions)];
  }
}

function blocked(orderId: string, reason: string, decisions: { ruleId: string; decision: string }[]): ProcessStep {
  return order(
    { type: 'FlagException', data: { orderId, code: ProcessExceptionCode.AuditBlocked, reason, details: { fired: decisions.map((d) => `${d.ruleId}:${d.decision}`) } } },
    'ResolveException',
    'the audit could not decide -> a person looks',
  );
}

/** A flag was cleared: pick the order up where it stopped. */
function resume(s: ExistingOrder, rules: RuleSet, now?: string): ProcessStep[] {
  if (!movable(s)) return [];
  if (s.status === 'placed') {
    const held = holdIfRulesSay(s, rules);
    return held.length > 0 ? held : reserveIfDue(s);
  }
  if (s.status === 'paid') return reserveIfDue(s);
  return auditIfDue(s, rules, now);
}

/** Releases of the order's reservation and of those its approved changes added. */
function releaseAll(s: ExistingOrder, why: string): ProcessStep[] {
  return [
    send(releaseStock(s.orderId, why), null, `${why} before shipment -> give the reserved units back`),
    ...(s.changeReservations ?? []).map((id) => send(releaseStock(id, why), null, `${why} before shipment -> give back the units an approved change added`)),
  ];
}

/** Cancel or refund before shipment: undo what the earlier steps set going, given the stage it happened in. */
function compensate(s: ExistingOrder, stage: OrderStage, why: 'cancelled' | 'refunded', reason: string): ProcessStep[] {
  const orderId = s.orderId;
  const steps: ProcessStep[] = [];
  // From `paid` on a ReserveStock may have been sent (and may still be in flight): release is a
  // no-op for inventory when nothing is reserved, so send it whenever one could exist. Once packed
  // the units are in a parcel that may already be gone: they stay reserved until the warehouse
  // pulls it (FulfillmentStopped, wasPacked), so they are never sold again while the parcel may leave.
  if (stage !== 'placed' && stage !== 'packed') steps.push(...releaseAll(s, why));
  if (stage === 'awaiting_approval' && s.approval?.status === 'pending') {
    steps.push(send(withdrawApproval(orderId, reason), null, `${why} while awaiting approval -> withdraw the approval`));
  }
  if (stage === 'ready_to_ship' || stage === 'packed') steps.push(send(stopFulfillment(orderId, reason), null, `${why} before shipment -> stop packing`));
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Timer: paid but not reserved in time -> exception.
// ---------------------------------------------------------------------------------------------

/** What the reservation-timeout scheduler knows about an order waiting for stock. */
export interface AwaitingStock {
  orderId: string;
  stage: OrderStage;
  onHold: boolean;
  inException: boolean;
  /** ISO time since when the order could move on (paid, or its last hold released / exception resolved). */
  movableSince: string;
}

/** The view of one order state the timer reads. */
export function awaitingStock(s: OrderState): AwaitingStock | null {
  if (!isExisting(s) || s.status !== 'paid' || s.reservation) return null;
  return { orderId: s.orderId, stage: s.status, onHold: !!s.hold, inException: !!s.exception, movableSince: s.movableSince };
}

/**
 * Orders paid but not reserved within `timeoutMs` of `now`, as FlagException commands.
 * A held order or one already in exception is not waiting on inventory, so it does not time out.
 */
export function dueReservationTimeouts(candidates: readonly AwaitingStock[], now: string, timeoutMs: number): UnstampedOrderCommand[] {
  const nowMs = Date.parse(now);
  return candidates
    .filter((c) => c.stage === 'paid' && !c.onHold && !c.inException && nowMs - Date.parse(c.movableSince) >= timeoutMs)
    .map((c) => ({
      type: 'FlagException',
      data: {
        orderId: c.orderId,
        code: ProcessExceptionCode.ReservationTimeout,
        reason: `paid but not reserved within ${Math.round(timeoutMs / 1000)} s`,
        details: { waitingSince: c.movableSince, timeoutMs },
      },
    }));
}

// ---------------------------------------------------------------------------------------------
// Timer: presale (预售) deadlines.
// ---------------------------------------------------------------------------------------------

/** What the presale timer knows about one presale order. */
export interface PresaleWaiting {
  orderId: string;
  stage: OrderStage;
  balanceDue: boolean;
  balanceDueBy: string;
  shipNotBefore: string;
}

/** The view of one order the presale timer reads: an open presale order before release. */
export function presaleWaiting(s: OrderState): PresaleWaiting | null {
  if (!isExisting(s) || !s.order.presale) return null;
  if (s.status !== 'placed' && s.status !== 'paid' && s.status !== 'stock_reserved' && s.status !== 'awaiting_approval') return null;
  return { orderId: s.orderId, stage: s.status, balanceDue: presaleBalanceDue(s) || !s.payment, balanceDueBy: s.order.presale.balanceDueBy, shipNotBefore: s.order.presale.shipNotBefore };
}

/**
 * Presale deadlines due at `now`: a balance (尾款) unpaid after `balanceDueBy` cancels the order
 * (the policy then releases its stock, as for any cancel); a settled order whose ship date has
 * come is audited again (`audit`: the runner feeds it through the same audit as a reservation).
 */
export function duePresaleDeadlines(w: PresaleWaiting, now: string): { kind: 'cancel'; command: UnstampedOrderCommand } | { kind: 'audit' } | null {
  const nowMs = Date.parse(now);
  if (w.balanceDue) {
    if (nowMs <= Date.parse(w.balanceDueBy)) return null;
    return { kind: 'cancel', command: { type: 'Cancel', data: { orderId: w.orderId, reason: `presale balance unpaid by ${w.balanceDueBy}` } } };
  }
  if (w.stage === 'stock_reserved' && nowMs >= Date.parse(w.shipNotBefore)) return { kind: 'audit' };
  return null;
}

/** The audit at a presale ship date (the timer's `audit`): the same steps a reservation would give now. */
export function presaleReleaseSteps(s: OrderState, rules: RuleSet, now: string): ProcessStep[] {
  if (!isExisting(s) || !s.order.presale) return [];
  return auditIfDue(s, rules, now);
}
