import type { AddressPatch, Allocation, CommandMetadata, Invoice, OrderLineInput, OrderSubmission, RuleDecisionKind } from '@flowline/contracts';

/**
 * A flow-rule decision as it travels on a command and lands in `OrderRuleDecided`:
 * which rule of which rule-set version decided what.
 */
export interface RuleDecisionRecord {
  ruleId: string;
  ruleSetVersion: string;
  /** `sha256:` + 12 hex of the rule file's content. */
  ruleSetHash: string;
  decision: RuleDecisionKind;
  params?: Record<string, unknown>;
}

type Cmd<T extends string, D> = { type: T; data: { orderId: string } & D; metadata: CommandMetadata };

/**
 * Commands of the order aggregate (imperative). Time, ids and the actor come in on `metadata`;
 * the order id is made at the edge (ULID) and passed in.
 */
export type OrderCommand =
  | Cmd<'PlaceOrder', { order: OrderSubmission; /** The total the client believes; must equal the server's. */ clientGrandTotal?: number }>
  /** `paidAt`: when the customer paid, as the platform or provider reports it (the event's reportedPaidAt). */
  | Cmd<'ConfirmPayment', { amount: number; currency: string; paymentRef?: string; paidAt?: string }>
  | Cmd<'RecordStockReserved', { reservationId: string; allocations: Allocation[] }>
  | Cmd<'RecordStockShortage', { missing: { sku: string; requested: number; available: number }[] }>
  | Cmd<'RequireApproval', { chain: string; decision: RuleDecisionRecord; decisions: RuleDecisionRecord[] }>
  | Cmd<'RecordApproval', { approvalId: string; chain: string }>
  | Cmd<'RecordRejection', { approvalId: string; chain: string; reason: string; rejectedBy?: string }>
  | Cmd<'ReleaseToFulfillment', { priority: 'normal' | 'high'; freeShipping: boolean; requiresQc: boolean; decisions: RuleDecisionRecord[] }>
  | Cmd<'RecordPacked', { shipmentId: string; waybillNo?: string }>
  /** `lastOfParcels`: the last of several parcels left (fulfillment ships an order per warehouse); it may be another parcel than the one recorded packed. */
  | Cmd<'RecordShipped', { shipmentId: string; carrier: string; trackingNumber: string; lastOfParcels?: boolean; /** Real handover time reported by fulfillment (ISO); the record time when absent. */ shippedAt?: string }>
  | Cmd<'RecordDelivered', { deliveredAt: string }>
  | Cmd<'Archive', object>
  | Cmd<'Cancel', { reason: string }>
  | Cmd<'RequestRefund', { amount: number; reason: string }>
  | Cmd<'RecordRefunded', { amount: number }>
  | Cmd<'PlaceHold', { reason: string; decision?: RuleDecisionRecord }>
  | Cmd<'ReleaseHold', { reason: string }>
  | Cmd<'FlagException', { code: string; reason: string; details?: Record<string, unknown> }>
  | Cmd<'ResolveException', { reason: string }>
  /** An approved change request (approval's ChangeApproved): applied as one OrderChanged. */
  | Cmd<
      'ApplyChange',
      {
        approvalId: string;
        changeRequestId: string;
        added: OrderLineInput[];
        removed: string[];
        quantities: { lineId: string; after: number }[];
        reservationId?: string;
        allocations?: Allocation[];
        /** Packed already, but a general manager overrode the freeze: re-open the packed shipment to apply it. */
        reopen?: boolean;
        /** A new shipping address (clear, from approval's private ApplyOrderChange): merged into the order's. */
        shippingAddress?: AddressPatch;
        shippingMethod?: string;
        invoice?: Invoice;
      }
    >
  /** An approved change the order can no longer take (packed or later): recorded, nothing changes. */
  | Cmd<'RefuseChange', { approvalId: string; changeRequestId: string; reason: string }>;

export type OrderCommandType = OrderCommand['type'];
export type OrderCommandOf<T extends OrderCommandType> = Extract<OrderCommand, { type: T }>;
/** A command before the edge stamps metadata on it (what policies produce). */
export type UnstampedOrderCommand = OrderCommand extends infer C ? (C extends OrderCommand ? Omit<C, 'metadata'> : never) : never;

export const ORDER_COMMAND_TYPES = [
  'PlaceOrder',
  'ConfirmPayment',
  'RecordStockReserved',
  'RecordStockShortage',
  'RequireApproval',
  'RecordApproval',
  'RecordRejection',
  'ReleaseToFulfillment',
  'RecordPacked',
  'RecordShipped',
  'RecordDelivered',
  'Archive',
  'Cancel',
  'RequestRefund',
  'RecordRefunded',
  'PlaceHold',
  'ReleaseHold',
  'FlagException',
  'ResolveException',
  'ApplyChange',
  'RefuseChange',
] as const satisfies readonly OrderCommandType[];
