import type { OrderCommand } from '../../src/domain/order.commands';
import { orderDecider } from '../../src/domain/order.decider';
import { orderStreamId } from '../../src/domain/order.events';
import { toNewEvents } from '../../src/application/order-reactions';
import type { OrderStore } from '../../src/application/order-store.port';

/**
 * Appends a command's own events without the order's in-process reactions: the order stays where
 * the command alone leaves it (e.g. stock_reserved before the rule audit released it), as orders
 * written by a build that reacted through Kafka may still stand. For tests of races a person can
 * only meet there (a cancel against a manual release).
 */
export async function commitWithoutReactions(store: OrderStore, command: Exclude<OrderCommand, { type: 'PlaceOrder' }>): Promise<void> {
  const loaded = await store.load(command.data.orderId);
  const events = orderDecider.decide(command, loaded.state);
  const stateAfter = events.reduce(orderDecider.evolve, loaded.state);
  await store.commit({ orderId: command.data.orderId, events: toNewEvents(orderStreamId(command.data.orderId), command, events), expectedRevision: loaded.revision, stateAfter });
}
