import { DomainError, isDomainError } from '@flowline/domain';
import { WrongExpectedVersion, type SqlClient } from '@flowline/eventstore';
import type { OrderCommandOf } from '../domain/order.commands';
import { orderDecider } from '../domain/order.decider';
import { OrderErrorCode, OrderErrors } from '../domain/order.errors';
import { isExisting, type ExistingOrder } from '../domain/order.state';
import { decideWithReactions, type Decision } from './order-reactions';
import { ChannelOrderTaken, type OrderChange, type OrderStore } from './order-store.port';
import type { RuleSet } from '../domain/rules/rule-set';
import type { RuleSetSource } from './rule-set.source';

/** A payment confirmed with the placement (the ConfirmPayment command's data). */
export type PaymentAtPlacement = Omit<OrderCommandOf<'ConfirmPayment'>['data'], 'orderId'>;

export interface PlaceOrderResult {
  state: ExistingOrder;
  revision: number;
  /** false: the (channel, channel order id) was already an order, which is returned instead (a payment sent with it is not applied). */
  created: boolean;
}

/**
 * PlaceOrder, then (with `payment`) the order's ConfirmPayment on the placed order, as one decision:
 * the events, consequences and outbox of both in one append, so a paid order is never stored unpaid.
 * It is the same as placing and then paying (each step's reactions on the order as it stands after
 * it); the payment's command id is the placement's plus `/payment`, so its event ids differ from the
 * placement's and a repeat of the request derives the same ones. A refused payment refuses the
 * whole placement (nothing is stored).
 */
export function decidePlacement(command: OrderCommandOf<'PlaceOrder'>, rules: RuleSet, payment?: PaymentAtPlacement): Decision {
  const placed = decideWithReactions(command, orderDecider.initialState(), rules);
  if (!payment) return placed;
  if (command.data.order.paymentMethod === 'cod') {
    throw OrderErrors.unprocessable(OrderErrorCode.Invalid, 'a cash-on-delivery order is paid at delivery: place it without payment', { field: 'payment' });
  }
  const pay: OrderCommandOf<'ConfirmPayment'> = {
    type: 'ConfirmPayment',
    data: { orderId: command.data.orderId, ...payment },
    metadata: { ...command.metadata, commandId: `${command.metadata.commandId}/payment`, causationId: command.metadata.commandId },
  };
  let paid: Decision;
  try {
    paid = decideWithReactions(pay, placed.stateAfter, rules);
  } catch (error) {
    // The refusal names the request's field: payment.amount, not amount.
    if (isDomainError(error) && typeof error.details.field === 'string') throw new DomainError(error.code, error.message, { ...error.details, field: `payment.${error.details.field}` }, error.kind);
    throw error;
  }
  return {
    events: [...placed.events, ...paid.events],
    newEvents: [...placed.newEvents, ...paid.newEvents],
    allEvents: [...placed.allEvents, ...paid.allEvents],
    outbox: [...placed.outbox, ...paid.outbox],
    stateAfter: paid.stateAfter,
    skipped: [...placed.skipped, ...paid.skipped],
  };
}

/**
 * PlaceOrder: decide on the empty state (with the order's own reactions: a rule hold, a COD
 * order's ReserveStock), then append OrderPlaced to a new stream and claim the (channel, channel
 * order id) in the same transaction (unique index). Of several concurrent submissions of one
 * channel order exactly one commits; the others roll back entirely and get the winner's order
 * (docs/adr/0004-order-flow.md).
 */
/** The append of a new order: its events and outbox at 'no_stream', with the channel-order claim. */
function newOrderChange(command: OrderCommandOf<'PlaceOrder'>, decision: Decision): OrderChange & { stateAfter: ExistingOrder } {
  const stateAfter = decision.stateAfter;
  if (!isExisting(stateAfter)) throw new Error('unreachable: PlaceOrder creates the order');
  const { channel, channelOrderId } = command.data.order;
  return {
    orderId: command.data.orderId,
    events: decision.newEvents,
    expectedRevision: 'no_stream',
    stateAfter,
    claim: { channel, channelOrderId },
    ...(decision.outbox.length > 0 ? { outbox: decision.outbox } : {}),
  };
}

export class PlaceOrderHandler {
  constructor(
    private readonly store: OrderStore,
    private readonly rules: RuleSetSource,
  ) {}

  /**
   * With `tx` (the request's transaction): see executeWithin. `claimFirst`: claim the channel order
   * before deciding (a request run again after its claim lost, which then finds the winner).
   */
  async execute(command: OrderCommandOf<'PlaceOrder'>, tx?: SqlClient, options: { claimFirst?: boolean; payment?: PaymentAtPlacement } = {}): Promise<PlaceOrderResult> {
    const { payment } = options;
    if (tx) return options.claimFirst ? this.claimThenExecute(command, tx, payment) : this.executeWithin(command, tx, payment);
    const { channel, channelOrderId } = command.data.order;
    const known = await this.store.findByChannelOrder(channel, channelOrderId);
    if (known) return this.existing(known);

    // Validation and totals happen here, so an invalid order is refused even if a duplicate exists later.
    const decision = decidePlacement(command, this.rules.current(), payment);
    const orderId = command.data.orderId;
    try {
      const change = newOrderChange(command, decision);
      const { revision } = await this.store.commit(change);
      return { state: change.stateAfter, revision, created: true };
    } catch (error) {
      if (error instanceof ChannelOrderTaken) {
        const winner = await this.store.findByChannelOrder(channel, channelOrderId);
        if (winner) return this.existing(winner);
      }
      // The same order id appended before: a retry of this very command.
      if (error instanceof WrongExpectedVersion) return this.existing(orderId);
      throw error;
    }
  }

  /**
   * In the request's transaction (which holds its Idempotency-Key row), on the common path where
   * the channel order is new: decide and append with the claim in the same commit (the store
   * sends it with the COMMIT when it can: no round trip of its own). A claim that loses (the
   * channel order is already an order, or a concurrent submission commits it first) throws
   * ChannelOrderTaken and rolls everything back; the owner of the transaction runs the request
   * again with `claimFirst`, which finds the winner.
   */
  private async executeWithin(command: OrderCommandOf<'PlaceOrder'>, tx: SqlClient, payment: PaymentAtPlacement | undefined): Promise<PlaceOrderResult> {
    let decision: Decision;
    try {
      decision = decidePlacement(command, this.rules.current(), payment);
    } catch (error) {
      // A channel order that is already an order is answered with that order, even when this
      // submission of it would be refused: the claim decides that, before the refusal stands.
      if (isDomainError(error)) return this.claimThenExecute(command, tx, payment);
      throw error;
    }
    const change = newOrderChange(command, decision);
    const { revision } = await this.store.commit(change, tx);
    return { state: change.stateAfter, revision, created: true };
  }

  /**
   * In the request's transaction, run again after a lost claim: claim the channel order first, in
   * one statement that also names its owner when taken (the existing order is returned), then
   * decide and append. A claim that lost to a transaction committing meanwhile throws
   * ChannelOrderTaken: the owner of the transaction rolls back and runs the request again.
   */
  private async claimThenExecute(command: OrderCommandOf<'PlaceOrder'>, tx: SqlClient, payment: PaymentAtPlacement | undefined): Promise<PlaceOrderResult> {
    const { channel, channelOrderId } = command.data.order;
    const orderId = command.data.orderId;
    const claim = await this.store.claimChannelOrder(channel, channelOrderId, orderId, tx);
    if (!claim.claimed) {
      if (claim.owner) return this.existing(claim.owner, tx);
      throw new ChannelOrderTaken(channel, channelOrderId);
    }
    // A refusal here rolls the claim back with the rest of the transaction.
    const decision = decidePlacement(command, this.rules.current(), payment);
    const stateAfter = decision.stateAfter;
    if (!isExisting(stateAfter)) throw new Error('unreachable: PlaceOrder creates the order');
    const { revision } = await this.store.commit(
      { orderId, events: decision.newEvents, expectedRevision: 'no_stream', stateAfter, ...(decision.outbox.length > 0 ? { outbox: decision.outbox } : {}) },
      tx,
    );
    return { state: stateAfter, revision, created: true };
  }

  private async existing(orderId: string, tx?: SqlClient): Promise<PlaceOrderResult> {
    const { state, revision } = await this.store.load(orderId, tx);
    if (!isExisting(state) || revision === 'no_stream') throw OrderErrors.notFound(orderId);
    return { state, revision, created: false };
  }
}
