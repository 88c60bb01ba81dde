import { WrongExpectedVersion } from '@flowline/eventstore';
import type { OrderCommandOf } from '../domain/order.commands';
import { orderDecider } from '../domain/order.decider';
import { OrderErrors } from '../domain/order.errors';
import { orderStreamId } from '../domain/order.events';
import { isExisting, type ExistingOrder } from '../domain/order.state';
import { toNewEvents } from './change-order.handler';
import { ChannelOrderTaken, type OrderStore } from './order-store.port';

export interface PlaceOrderResult {
  state: ExistingOrder;
  revision: number;
  /** false: the (channel, channel order id) was already an order, which is returned instead. */
  created: boolean;
}

/**
 * PlaceOrder: decide on the empty state, then append OrderPlaced to a new stream and claim the
 * (channel, channel order id) in the same transaction (unique index). Of several concurrent
 * submissions of one channel order exactly one commits; the others roll back entirely and get
 * the winner's order (docs/adr/0004-order-flow.md).
 */
export class PlaceOrderHandler {
  constructor(private readonly store: OrderStore) {}

  async execute(command: OrderCommandOf<'PlaceOrder'>): Promise<PlaceOrderResult> {
    const { channel, channelOrderId } = command.data.order;
    const known = await this.store.findByChannelOrder(channel, channelOrderId);
    if (known) return this.existing(known);

    // Validation and totals happen here, so an invalid order is refused even if a duplicate exists later.
    const events = orderDecider.decide(command, orderDecider.initialState());
    const stateAfter = events.reduce(orderDecider.evolve, orderDecider.initialState());
    if (!isExisting(stateAfter)) throw new Error('unreachable: PlaceOrder creates the order');
    const orderId = command.data.orderId;
    try {
      const { revision } = await this.store.commit({
        orderId,
        events: toNewEvents(orderStreamId(orderId), command, events),
        expectedRevision: 'no_stream',
        stateAfter,
        claim: { channel, channelOrderId },
      });
      return { state: stateAfter, revision, created: true };
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

  private async existing(orderId: string): Promise<PlaceOrderResult> {
    const { state, revision } = await this.store.load(orderId);
    if (!isExisting(state) || revision === 'no_stream') throw OrderErrors.notFound(orderId);
    return { state, revision, created: false };
  }
}
