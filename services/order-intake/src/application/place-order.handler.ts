import { isDomainError } from '@flowline/domain';
import { WrongExpectedVersion, type SqlClient } from '@flowline/eventstore';
import type { OrderCommandOf } from '../domain/order.commands';
import { orderDecider } from '../domain/order.decider';
import { OrderErrors } from '../domain/order.errors';
import { isExisting, type ExistingOrder } from '../domain/order.state';
import { decideWithReactions, type Decision } from './order-reactions';
import { ChannelOrderTaken, type OrderChange, type OrderStore } from './order-store.port';
import type { RuleSetSource } from './rule-set.source';

export interface PlaceOrderResult {
  state: ExistingOrder;
  revision: number;
  /** false: the (channel, channel order id) was already an order, which is returned instead. */
  created: boolean;
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
  async execute(command: OrderCommandOf<'PlaceOrder'>, tx?: SqlClient, options: { claimFirst?: boolean } = {}): Promise<PlaceOrderResult> {
    if (tx) return options.claimFirst ? this.claimThenExecute(command, tx) : this.executeWithin(command, tx);
    const { channel, channelOrderId } = command.data.order;
    const known = await this.store.findByChannelOrder(channel, channelOrderId);
    if (known) return this.existing(known);

    // Validation and totals happen here, so an invalid order is refused even if a duplicate exists later.
    const decision = decideWithReactions(command, orderDecider.initialState(), this.rules.current());
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
  private async executeWithin(command: OrderCommandOf<'PlaceOrder'>, tx: SqlClient): Promise<PlaceOrderResult> {
    let decision: Decision;
    try {
      decision = decideWithReactions(command, orderDecider.initialState(), this.rules.current());
    } catch (error) {
      // A channel order that is already an order is answered with that order, even when this
      // submission of it would be refused: the claim decides that, before the refusal stands.
      if (isDomainError(error)) return this.claimThenExecute(command, tx);
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
  private async claimThenExecute(command: OrderCommandOf<'PlaceOrder'>, tx: SqlClient): Promise<PlaceOrderResult> {
    const { channel, channelOrderId } = command.data.order;
    const orderId = command.data.orderId;
    const claim = await this.store.claimChannelOrder(channel, channelOrderId, orderId, tx);
    if (!claim.claimed) {
      if (claim.owner) return this.existing(claim.owner, tx);
      throw new ChannelOrderTaken(channel, channelOrderId);
    }
    // A refusal here rolls the claim back with the rest of the transaction.
    const decision = decideWithReactions(command, orderDecider.initialState(), this.rules.current());
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
