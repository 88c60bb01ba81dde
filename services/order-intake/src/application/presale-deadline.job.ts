import { isDomainError } from '@flowline/domain';
import { duePresaleDeadlines, presaleReleaseSteps, presaleWaiting } from '../domain/policies/order-process.policy';
import type { UnstampedOrderCommand } from '../domain/order.commands';
import type { ChangeOrderHandler } from './change-order.handler';
import type { OrderStore } from './order-store.port';
import type { RuleSetSource } from './rule-set.source';

/**
 * One pass of the presale (预售) timer, beside the reservation timer:
 * - a balance (尾款) still unpaid after `balanceDueBy` cancels the order (the process manager then
 *   releases its stock, as for any cancel before shipment);
 * - a settled presale order (balance paid) whose ship date has come is audited again, so the
 *   rules release it to fulfillment (the policy held it at stock_reserved until then).
 * The read table's `presale_next_at` finds candidates; each is re-checked on its stream and changed
 * at the revision it was checked at (a balance landing in between wins). Command ids derive from
 * the order and the deadline: several replicas act once.
 */
export class PresaleDeadlineJob {
  constructor(
    private readonly store: OrderStore,
    private readonly changes: ChangeOrderHandler,
    private readonly rules: RuleSetSource,
    private readonly batchSize = 100,
  ) {}

  /** Returns what it did per order: `cancelled` or `released` (or another audit outcome's command). */
  async runOnce(now: string): Promise<{ orderId: string; command: string }[]> {
    const done: { orderId: string; command: string }[] = [];
    for (const row of await this.store.presaleDue(now, this.batchSize)) {
      const loaded = await this.store.load(row.orderId);
      const waiting = presaleWaiting(loaded.state);
      if (!waiting || loaded.revision === 'no_stream') continue;
      const due = duePresaleDeadlines(waiting, now);
      if (!due) continue;
      const commands: { command: UnstampedOrderCommand; key: string }[] =
        due.kind === 'cancel'
          ? [{ command: due.command, key: `presale-balance:${waiting.orderId}:${waiting.balanceDueBy}` }]
          : presaleReleaseSteps(loaded.state, this.rules.current(), now).flatMap((step, i) =>
              step.kind === 'order' ? [{ command: step.command, key: `presale-ship:${waiting.orderId}:${waiting.shipNotBefore}:${i}` }] : [],
            );
      for (const { command, key } of commands) {
        try {
          await this.changes.execute(
            {
              ...command,
              metadata: { commandId: key, correlationId: waiting.orderId, causationId: null, now, actor: { kind: 'service', id: 'order-intake.presale-timer', role: 'system' } },
            } as Parameters<ChangeOrderHandler['execute']>[0],
            { loaded, retryOnConflict: false },
          );
          done.push({ orderId: waiting.orderId, command: command.type });
        } catch (error) {
          // Moved on meanwhile (balance paid, cancelled, held, handled by another replica): nothing to do.
          if (!isDomainError(error)) throw error;
        }
      }
    }
    return done;
  }
}
