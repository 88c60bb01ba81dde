import { isDomainError } from '@flowline/domain';
import type { NewEvent, SqlClient } from '@flowline/eventstore';
import type { OrderCommand } from '../domain/order.commands';
import { orderProcessPolicy, type ProcessEvent, type ProcessStep } from '../domain/policies/order-process.policy';
import type { ChangeOrderHandler } from './change-order.handler';
import { eventIdFor } from './ids';
import { processStreamId, type LoadedOrder, type OrderStore } from './order-store.port';
import type { RuleSetSource } from './rule-set.source';

/** The message that triggered a reaction: its id makes every step's id deterministic. */
export interface Trigger {
  eventId: string;
  correlationId: string;
}

export interface RunnerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface RunOutcome {
  steps: ProcessStep[];
  /** Order steps the order refused because it had moved on (logged, not retried). */
  skipped: { command: string; code: string }[];
}

/**
 * The process manager's runner for facts from other services (inventory, approval, fulfillment:
 * the order's own events are reacted to in-process, in the transaction of the command that
 * produced them, see order-reactions.ts): load the order, ask the pure policy for the next steps,
 * apply the order steps to the order stream (with their own consequences) and put the `send`
 * steps in the outbox (stream `process-<orderId>`, published by the relay). With `tx` everything joins the consumer's
 * transaction, which also holds the inbox row: a redelivered message changes nothing.
 * Ids derive from the trigger's event id, so even a repeat outside the inbox is a no-op.
 */
export class ProcessManagerRunner {
  constructor(
    private readonly store: OrderStore,
    private readonly changes: ChangeOrderHandler,
    private readonly rules: RuleSetSource,
    private readonly clock: () => string,
    private readonly logger: RunnerLogger = { warn: () => undefined },
  ) {}

  async handle(event: ProcessEvent, trigger: Trigger, tx?: SqlClient): Promise<RunOutcome> {
    const orderId = (event.data as { orderId?: unknown }).orderId;
    if (typeof orderId !== 'string' || orderId === '') return { steps: [], skipped: [] };
    let loaded: LoadedOrder | undefined = await this.store.load(orderId, tx);
    const now = this.clock();
    const steps = orderProcessPolicy(event, { order: loaded.state, rules: this.rules.current(), now });

    const outbox: NewEvent[] = [];
    steps.forEach((step, i) => {
      if (step.kind !== 'send') return;
      outbox.push({
        eventId: eventIdFor(processStreamId(orderId), trigger.eventId, i),
        type: step.command.type,
        data: step.command.data,
        metadata: { correlationId: trigger.correlationId, causationId: trigger.eventId, occurredAt: now, actor: { kind: 'service', id: 'order-intake', role: 'system' } },
      });
    });

    const skipped: RunOutcome['skipped'] = [];
    let outboxPending = outbox.length > 0;
    for (const [i, step] of steps.entries()) {
      if (step.kind !== 'order') continue;
      const command = {
        ...step.command,
        metadata: {
          commandId: `${trigger.eventId}/${i}`,
          correlationId: trigger.correlationId,
          causationId: trigger.eventId,
          now,
          actor: { kind: 'service', id: 'order-intake.process-manager', role: 'system' },
        },
      } as Exclude<OrderCommand, { type: 'PlaceOrder' }>;
      try {
        // retryOnConflict: a step that lost a race to another write (a person's hold and release,
        // a fact arriving at the same moment) is decided again on the order as it now is, never
        // dropped; a step that no longer applies is then refused by the decider and skipped below.
        const result = await this.changes.execute(command, {
          retryOnConflict: true,
          ...(loaded ? { loaded } : {}),
          ...(tx ? { tx } : {}),
          ...(outboxPending ? { outbox } : {}),
        });
        for (const s of result.skipped) this.logger.warn('process step refused by the order; skipped', { orderId, command: s.command, code: s.code, trigger: s.trigger });
        outboxPending = false;
        loaded = undefined; // the next order step (if any) reloads
      } catch (error) {
        if (!isDomainError(error)) throw error;
        // The order moved on between the policy's look and the append (a person cancelled, a
        // fact arrived twice): the step no longer applies.
        skipped.push({ command: command.type, code: error.code });
        this.logger.warn('process step refused by the order; skipped', { orderId, command: command.type, code: error.code, trigger: trigger.eventId });
        loaded = undefined;
      }
    }
    // Commands decided on a state the order has left (its step was refused) are not sent.
    if (outboxPending && skipped.length === 0) await this.store.appendOutbox(orderId, outbox, tx);
    else if (outboxPending) this.logger.warn('process commands dropped: decided on a state the order has left', { orderId, commands: outbox.map((c) => c.type), trigger: trigger.eventId });
    return { steps, skipped };
  }
}
