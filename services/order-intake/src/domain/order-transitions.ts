import type { OrderStage } from '@flowline/contracts';
import type { OrderCommandType } from './order.commands';

/** A stage, or `none` before PlaceOrder. */
export type StageOrNone = 'none' | OrderStage;

/**
 * How a command relates to the flags (on_hold, exception) and a pending refund:
 * - `advance`: our own decision to move the order on. Refused while the order is on hold
 *   (ORDER_ON_HOLD), in exception (ORDER_IN_EXCEPTION) or has a refund before shipment pending
 *   (ORDER_REFUND_PENDING).
 * - `record`: a fact another party reports (payment received, stock reserved, approval decided,
 *   parcel packed / shipped / delivered). Recorded whatever the flags: refusing a fact would not
 *   undo it, only make the order lie about the world. The flags still stop the next `advance`.
 * - `exit`: cancel and refund; allowed whatever the flags (a person must always be able to stop).
 * - `flag`: sets or clears a flag; the stage does not change.
 */
export type Gate = 'advance' | 'record' | 'exit' | 'flag';

/** Named guards checked after the gate; each refuses with its own stable code (order.decider.ts). */
export type Guard =
  | 'approvalPending' //   ORDER_APPROVAL_NOT_PENDING unless an approval is open
  | 'approvalGranted' //   ORDER_APPROVAL_PENDING unless the approval was granted
  | 'allLinesReserved' //  ORDER_STOCK_NOT_RESERVED unless every line's quantity is allocated
  | 'noRefundPending' //   ORDER_REFUND_PENDING if a refund request is open
  | 'refundOwed' //        REFUND_NOT_REQUESTED unless a refund is requested (or owed after a paid cancel)
  | 'holdAbsent' //        ORDER_ALREADY_ON_HOLD
  | 'holdPresent' //       ORDER_NOT_ON_HOLD
  | 'exceptionAbsent' //   ORDER_ALREADY_IN_EXCEPTION
  | 'exceptionPresent' //  ORDER_NOT_IN_EXCEPTION
  | 'balanceDue' //        ORDER_BALANCE_NOT_DUE unless a presale order's balance (尾款) or an applied change's price difference is unpaid
  | 'changePaymentDue' //  ORDER_BALANCE_NOT_DUE unless an applied change's price difference is unpaid
  | 'presaleSettled' //    ORDER_PRESALE_NOT_SETTLED until a presale's balance is paid and its ship date reached
  | 'codUnreserved' //     ORDER_NOT_COD unless cash on delivery (reserved without payment)
  | 'codUncollected'; //   ORDER_NOT_COD unless cash on delivery with nothing collected yet

export interface Transition {
  from: StageOrNone;
  command: OrderCommandType;
  to: OrderStage;
  gate: Gate;
  guards: readonly Guard[];
}

const t = (from: StageOrNone, command: OrderCommandType, to: OrderStage, gate: Gate, ...guards: Guard[]): Transition => ({
  from,
  command,
  to,
  gate,
  guards,
});

/**
 * THE ORDER JOURNEY. Every command the order accepts, in every stage, and where it leads.
 * A (stage, command) pair that is not in this table is refused with ORDER_ILLEGAL_TRANSITION and
 * leaves the stream untouched. `archived` and `refunded` accept nothing; `cancelled` only the
 * recording of money paid back.
 *
 * Cancel or refund before shipment makes the process manager release the stock and stop packing;
 * a refund after shipment is recorded for the returns flow and the stage stays.
 */
export const ORDER_TRANSITIONS: readonly Transition[] = [
  // from                 command                  to                   gate       extra guards
  t('none',               'PlaceOrder',            'placed',            'record'),

  t('placed',             'ConfirmPayment',        'paid',              'record'),
  t('placed',             'Cancel',                'cancelled',         'exit'),
  t('placed',             'PlaceHold',             'placed',            'flag',    'holdAbsent'),
  t('placed',             'ReleaseHold',           'placed',            'flag',    'holdPresent'),
  t('placed',             'FlagException',         'placed',            'flag',    'exceptionAbsent'),
  t('placed',             'ResolveException',      'placed',            'flag',    'exceptionPresent'),
  t('placed',             'ApplyChange',           'placed',            'record'),
  t('placed',             'RefuseChange',          'placed',            'record'),
  // Cash on delivery (货到付款): stock is reserved without a payment.
  t('placed',             'RecordStockReserved',   'stock_reserved',    'record',  'codUnreserved'),
  t('placed',             'RecordStockShortage',   'placed',            'record',  'codUnreserved'),

  t('paid',               'RecordStockReserved',   'stock_reserved',    'record'),
  t('paid',               'RecordStockShortage',   'paid',              'record'),
  t('paid',               'Cancel',                'cancelled',         'exit',    'noRefundPending'),
  t('paid',               'RequestRefund',         'paid',              'exit',    'noRefundPending'),
  t('paid',               'RecordRefunded',        'refunded',          'exit',    'refundOwed'),
  t('paid',               'PlaceHold',             'paid',              'flag',    'holdAbsent'),
  t('paid',               'ReleaseHold',           'paid',              'flag',    'holdPresent'),
  t('paid',               'FlagException',         'paid',              'flag',    'exceptionAbsent'),
  t('paid',               'ResolveException',      'paid',              'flag',    'exceptionPresent'),
  t('paid',               'ApplyChange',           'paid',              'record'),
  t('paid',               'RefuseChange',          'paid',              'record'),
  // Presale (预售): the deposit made the order `paid`; the balance (尾款) is recorded where the order stands.
  t('paid',               'ConfirmPayment',        'paid',              'record',  'balanceDue'),

  t('stock_reserved',     'RequireApproval',       'awaiting_approval', 'advance'),
  t('stock_reserved',     'ReleaseToFulfillment',  'ready_to_ship',     'advance', 'allLinesReserved', 'presaleSettled'),
  t('stock_reserved',     'ConfirmPayment',        'stock_reserved',    'record',  'balanceDue'),
  t('stock_reserved',     'Cancel',                'cancelled',         'exit',    'noRefundPending'),
  t('stock_reserved',     'RequestRefund',         'stock_reserved',    'exit',    'noRefundPending'),
  t('stock_reserved',     'RecordRefunded',        'refunded',          'exit',    'refundOwed'),
  t('stock_reserved',     'PlaceHold',             'stock_reserved',    'flag',    'holdAbsent'),
  t('stock_reserved',     'ReleaseHold',           'stock_reserved',    'flag',    'holdPresent'),
  t('stock_reserved',     'FlagException',         'stock_reserved',    'flag',    'exceptionAbsent'),
  t('stock_reserved',     'ResolveException',      'stock_reserved',    'flag',    'exceptionPresent'),
  t('stock_reserved',     'ApplyChange',           'stock_reserved',    'record'),
  t('stock_reserved',     'RefuseChange',          'stock_reserved',    'record'),

  t('awaiting_approval',  'RecordApproval',        'awaiting_approval', 'record',  'approvalPending'),
  t('awaiting_approval',  'RecordRejection',       'cancelled',         'record',  'approvalPending'),
  t('awaiting_approval',  'ReleaseToFulfillment',  'ready_to_ship',     'advance', 'approvalGranted', 'allLinesReserved', 'presaleSettled'),
  t('awaiting_approval',  'ConfirmPayment',        'awaiting_approval', 'record',  'balanceDue'),
  t('awaiting_approval',  'Cancel',                'cancelled',         'exit',    'noRefundPending'),
  t('awaiting_approval',  'RequestRefund',         'awaiting_approval', 'exit',    'noRefundPending'),
  t('awaiting_approval',  'RecordRefunded',        'refunded',          'exit',    'refundOwed'),
  t('awaiting_approval',  'PlaceHold',             'awaiting_approval', 'flag',    'holdAbsent'),
  t('awaiting_approval',  'ReleaseHold',           'awaiting_approval', 'flag',    'holdPresent'),
  t('awaiting_approval',  'FlagException',         'awaiting_approval', 'flag',    'exceptionAbsent'),
  t('awaiting_approval',  'ResolveException',      'awaiting_approval', 'flag',    'exceptionPresent'),
  t('awaiting_approval',  'ApplyChange',           'awaiting_approval', 'record'),
  t('awaiting_approval',  'RefuseChange',          'awaiting_approval', 'record'),

  t('ready_to_ship',      'RecordPacked',          'packed',            'record'),
  t('ready_to_ship',      'Cancel',                'cancelled',         'exit',    'noRefundPending'),
  t('ready_to_ship',      'RequestRefund',         'ready_to_ship',     'exit',    'noRefundPending'),
  t('ready_to_ship',      'RecordRefunded',        'refunded',          'exit',    'refundOwed'),
  t('ready_to_ship',      'PlaceHold',             'ready_to_ship',     'flag',    'holdAbsent'),
  t('ready_to_ship',      'ReleaseHold',           'ready_to_ship',     'flag',    'holdPresent'),
  t('ready_to_ship',      'FlagException',         'ready_to_ship',     'flag',    'exceptionAbsent'),
  t('ready_to_ship',      'ResolveException',      'ready_to_ship',     'flag',    'exceptionPresent'),
  t('ready_to_ship',      'ApplyChange',           'ready_to_ship',     'record'),
  t('ready_to_ship',      'RefuseChange',          'ready_to_ship',     'record'),
  t('ready_to_ship',      'ConfirmPayment',        'ready_to_ship',     'record',  'changePaymentDue'),

  t('packed',             'RecordShipped',         'shipped',           'record'),
  t('packed',             'Cancel',                'cancelled',         'exit',    'noRefundPending'),
  t('packed',             'RequestRefund',         'packed',            'exit',    'noRefundPending'),
  t('packed',             'RecordRefunded',        'refunded',          'exit',    'refundOwed'),
  t('packed',             'PlaceHold',             'packed',            'flag',    'holdAbsent'),
  t('packed',             'ReleaseHold',           'packed',            'flag',    'holdPresent'),
  t('packed',             'FlagException',         'packed',            'flag',    'exceptionAbsent'),
  t('packed',             'ResolveException',      'packed',            'flag',    'exceptionPresent'),
  t('packed',             'RefuseChange',          'packed',            'record'),
  t('packed',             'ConfirmPayment',        'packed',            'record',  'changePaymentDue'),
  // Only with a general manager's override of the freeze (特批): the packed shipment is re-opened.
  t('packed',             'ApplyChange',           'ready_to_ship',     'record'),

  // After shipment a refund does not end the order: it is recorded for the returns flow.
  t('shipped',            'RecordDelivered',       'delivered',         'record'),
  t('shipped',            'RequestRefund',         'shipped',           'exit',    'noRefundPending'),
  t('shipped',            'RecordRefunded',        'shipped',           'exit',    'refundOwed'),
  t('shipped',            'PlaceHold',             'shipped',           'flag',    'holdAbsent'),
  t('shipped',            'ReleaseHold',           'shipped',           'flag',    'holdPresent'),
  t('shipped',            'FlagException',         'shipped',           'flag',    'exceptionAbsent'),
  t('shipped',            'ResolveException',      'shipped',           'flag',    'exceptionPresent'),
  t('shipped',            'RefuseChange',          'shipped',           'record'),
  t('shipped',            'ConfirmPayment',        'shipped',           'record',  'changePaymentDue'),

  t('delivered',          'Archive',               'archived',          'advance'),
  t('delivered',          'RequestRefund',         'delivered',         'exit',    'noRefundPending'),
  t('delivered',          'RecordRefunded',        'delivered',         'exit',    'refundOwed'),
  t('delivered',          'PlaceHold',             'delivered',         'flag',    'holdAbsent'),
  t('delivered',          'ReleaseHold',           'delivered',         'flag',    'holdPresent'),
  t('delivered',          'FlagException',         'delivered',         'flag',    'exceptionAbsent'),
  t('delivered',          'ResolveException',      'delivered',         'flag',    'exceptionPresent'),
  t('delivered',          'RefuseChange',          'delivered',         'record'),
  // Cash on delivery: the amount the carrier collected (or finance confirms) is recorded after delivery.
  t('delivered',          'ConfirmPayment',        'delivered',         'record',  'codUncollected'),

  // Terminal. A cancelled order that had been paid owes the money back; finance records it here.
  t('cancelled',          'RecordRefunded',        'cancelled',         'exit',    'refundOwed'),
  t('cancelled',          'RefuseChange',          'cancelled',         'record'),
  // A parcel that shipped although the order was cancelled (SHIPPED_AFTER_CANCEL) needs a person.
  t('cancelled',          'FlagException',         'cancelled',         'flag',    'exceptionAbsent'),
  t('cancelled',          'ResolveException',      'cancelled',         'flag',    'exceptionPresent'),
];

const index = new Map<string, Transition>(ORDER_TRANSITIONS.map((row) => [`${row.from}|${row.command}`, row]));
if (index.size !== ORDER_TRANSITIONS.length) throw new Error('ORDER_TRANSITIONS has a duplicate (stage, command) row');

/** The row for a stage and a command, or undefined when the command is not allowed there. */
export function findTransition(from: StageOrNone, command: OrderCommandType): Transition | undefined {
  return index.get(`${from}|${command}`);
}

/** Commands allowed in a stage (for the API's "what can I do now" and for docs). */
export function allowedCommands(from: StageOrNone): OrderCommandType[] {
  return ORDER_TRANSITIONS.filter((row) => row.from === from).map((row) => row.command);
}

/** Stages before the parcel leaves: cancel or refund here releases stock and stops packing. */
export const PRE_SHIPMENT_STAGES: readonly OrderStage[] = ['placed', 'paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship', 'packed'];
export const TERMINAL_STAGES: readonly OrderStage[] = ['archived', 'cancelled', 'refunded'];

export function isPreShipment(stage: OrderStage): boolean {
  return PRE_SHIPMENT_STAGES.includes(stage);
}
