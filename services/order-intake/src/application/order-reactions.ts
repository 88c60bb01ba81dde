import { isDomainError } from '@flowline/domain';
import type { NewEvent } from '@flowline/eventstore';
import type { OrderCommand } from '../domain/order.commands';
import { orderDecider } from '../domain/order.decider';
import { orderStreamId, type OrderEvent } from '../domain/order.events';
import type { OrderState } from '../domain/order.state';
import { orderProcessPolicy, type ProcessEvent, type ProcessStep } from '../domain/policies/order-process.policy';
import type { RuleSet } from '../domain/rules/rule-set';
import { eventIdFor } from './ids';
import { processStreamId } from './order-store.port';

/** Who stamps the commands and outbox entries the order's own events lead to. */
const PROCESS_ACTOR = { kind: 'service', id: 'order-intake.process-manager', role: 'system' } as const;
const OUTBOX_ACTOR = { kind: 'service', id: 'order-intake', role: 'system' } as const;

/**
 * A cascade that does not settle is a bug in the policy (a step that re-triggers itself): stop
 * with an error instead of appending without end. The longest journey today is 4 reactions deep.
 */
export const MAX_REACTIONS = 32;

export interface Decision {
  /** The command's own events (what the caller asked for). */
  events: OrderEvent[];
  /** Everything to append to `order-<id>`, in order: the command's events, then their consequences. */
  newEvents: NewEvent[];
  /** Every event appended, own and consequences, as domain events (same order as newEvents). */
  allEvents: OrderEvent[];
  /** Commands to other contexts (stream `process-<orderId>`), committed with the order change. */
  outbox: NewEvent[];
  stateAfter: OrderState;
  /** Consequences the order refused (the policy and the decider disagree): logged, never appended. */
  skipped: { command: string; code: string; trigger: string }[];
}

/** The stored form of decided events: ids derived from the command id, so a retry is a repeat. */
export function toNewEvents(streamId: string, command: OrderCommand, events: OrderEvent[]): NewEvent[] {
  const m = command.metadata;
  return events.map((e, i) => ({
    eventId: eventIdFor(streamId, m.commandId, i),
    type: e.type,
    data: e.data,
    metadata: { correlationId: m.correlationId, causationId: m.commandId, occurredAt: m.now, ...(m.actor ? { actor: m.actor } : {}) },
  }));
}

/**
 * Decides a command and, in the same breath, what the order's own process does about the events
 * it produced (docs/adr/0015-in-process-order-flow.md): each new event goes through the process
 * policy (domain/policies/order-process.policy.ts) on the order as it stands after everything
 * decided so far, in event order; `order` steps are decided on the order (their events join the
 * queue), `send` steps become outbox entries. The caller appends the whole result in one
 * transaction, so e.g. ConfirmPayment commits OrderPaid together with ReserveStock, and
 * RecordStockReserved commits OrderStockReserved, the rule decision, OrderReadyToShip and
 * StartFulfillment together. Nothing here crosses Kafka.
 *
 * Ids are the ones the Kafka-driven process manager used: a consequence's command id is
 * `<trigger event id>/<step index>`, an outbox entry's event id derives from the trigger event id.
 * The root command's refusal (DomainError) is thrown; a refused consequence is skipped (its
 * reaction's `send` steps are dropped with it: they were decided on a state the order refused).
 */
export function decideWithReactions(command: OrderCommand, state: OrderState, rules: RuleSet): Decision {
  const orderId = command.data.orderId;
  const streamId = orderStreamId(orderId);
  const m = command.metadata;
  const events = orderDecider.decide(command, state);
  let current = events.reduce(orderDecider.evolve, state);
  const newEvents = toNewEvents(streamId, command, events);
  const allEvents = [...events];
  const outbox: NewEvent[] = [];
  const skipped: Decision['skipped'] = [];
  const queue = events.map((event, i) => ({ event, eventId: newEvents[i].eventId }));
  let reactions = 0;

  for (let next = queue.shift(); next; next = queue.shift()) {
    const { event, eventId } = next;
    const steps: ProcessStep[] = orderProcessPolicy({ context: 'orders', type: event.type, data: event.data } as ProcessEvent, { order: current, rules, now: m.now });
    if (steps.length === 0) continue;
    if (++reactions > MAX_REACTIONS) throw new Error(`order ${orderId}: the process policy did not settle after ${MAX_REACTIONS} reactions (last: ${event.type})`);
    const sends: NewEvent[] = [];
    let refused = false;
    steps.forEach((step, i) => {
      if (step.kind === 'send') {
        sends.push({
          eventId: eventIdFor(processStreamId(orderId), eventId, i),
          type: step.command.type,
          data: step.command.data,
          metadata: { correlationId: m.correlationId, causationId: eventId, occurredAt: m.now, actor: OUTBOX_ACTOR },
        });
        return;
      }
      const consequence = {
        ...step.command,
        metadata: { commandId: `${eventId}/${i}`, correlationId: m.correlationId, causationId: eventId, now: m.now, actor: PROCESS_ACTOR },
      } as OrderCommand;
      let decided: OrderEvent[];
      try {
        decided = orderDecider.decide(consequence, current);
      } catch (error) {
        if (!isDomainError(error)) throw error;
        skipped.push({ command: consequence.type, code: error.code, trigger: event.type });
        refused = true;
        return;
      }
      const stored = toNewEvents(streamId, consequence, decided);
      current = decided.reduce(orderDecider.evolve, current);
      newEvents.push(...stored);
      allEvents.push(...decided);
      decided.forEach((e, k) => queue.push({ event: e, eventId: stored[k].eventId }));
    });
    if (!refused) outbox.push(...sends);
  }
  return { events, newEvents, allEvents, outbox, stateAfter: current, skipped };
}
