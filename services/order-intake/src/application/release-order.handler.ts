import type { CommandMetadata } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import { OrderErrors } from '../domain/order.errors';
import { isExisting } from '../domain/order.state';
import { auditOrder } from '../domain/rules/rule-engine';
import { assertInScope, type ChangeOptions, type ChangeOrderHandler, type ChangeResult } from './change-order.handler';
import type { OrderStore } from './order-store.port';
import type { RuleSetSource } from './rule-set.source';

export const AUDIT_NOT_PASSED = 'ORDER_AUDIT_NOT_PASSED';

/**
 * A person releases an order to the warehouse (manual 审单): the flow rules in force audit it
 * first, and only a passing audit becomes ReleaseToFulfillment, carrying the rule decisions.
 * The automatic path is the process manager doing the same when stock is reserved.
 */
export class ReleaseOrderHandler {
  constructor(
    private readonly store: OrderStore,
    private readonly changes: ChangeOrderHandler,
    private readonly rules: RuleSetSource,
  ) {}

  async execute(orderId: string, metadata: CommandMetadata, options: Pick<ChangeOptions, 'expectedRevision' | 'tx' | 'scope' | 'loaded'> = {}): Promise<ChangeResult> {
    const loaded = options.loaded ?? (await this.store.load(orderId, options.tx));
    if (!isExisting(loaded.state)) throw OrderErrors.notFound(orderId);
    // Scope first: an out-of-scope order's audit outcome (409) would confirm it exists.
    assertInScope(loaded.state, options.scope);
    const outcome = auditOrder(this.rules.current(), loaded.state);
    if (outcome.kind !== 'release') {
      const detail = outcome.kind === 'approval' ? `approval chain ${outcome.chain} required` : outcome.kind === 'hold' ? outcome.reason : 'no rule released the order';
      // A command replayed after it succeeded finds the order past the audit: let the handler say so.
      if (!loaded.events.some((e) => e.metadata.causationId === metadata.commandId)) {
        throw new DomainError(AUDIT_NOT_PASSED, `the order audit did not pass: ${detail}`, { outcome: outcome.kind, ruleIds: ruleIdsOf(outcome) });
      }
    }
    const data =
      outcome.kind === 'release'
        ? { orderId, priority: outcome.priority, freeShipping: outcome.freeShipping, requiresQc: outcome.requiresQc, decisions: outcome.decisions }
        : { orderId, priority: 'normal' as const, freeShipping: false, requiresQc: false, decisions: [] };
    return this.changes.execute({ type: 'ReleaseToFulfillment', data, metadata }, { ...options, loaded });
  }
}

function ruleIdsOf(outcome: ReturnType<typeof auditOrder>): string[] {
  switch (outcome.kind) {
    case 'hold':
      return [outcome.decision.ruleId];
    case 'approval':
      return [outcome.decision.ruleId];
    default:
      return outcome.decisions.map((d) => d.ruleId);
  }
}
