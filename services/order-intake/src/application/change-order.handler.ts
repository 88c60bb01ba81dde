import { DomainError } from '@flowline/domain';
import { WrongExpectedVersion, type NewEvent, type SqlClient } from '@flowline/eventstore';
import type { OrderCommand, OrderCommandType } from '../domain/order.commands';
import { OrderErrors } from '../domain/order.errors';
import type { OrderEvent } from '../domain/order.events';
import { isExisting, type ExistingOrder } from '../domain/order.state';
import { decideWithReactions, type Decision } from './order-reactions';
import type { LoadedOrder, OrderStore } from './order-store.port';
import type { RuleSetSource } from './rule-set.source';

/**
 * Whether a command is re-decided on the fresh state when another writer appended first.
 * Facts reported by other contexts (and our own bookkeeping) still mean the same thing one
 * revision later, so re-deciding is what the sender wants. A person's decision (cancel, release,
 * hold...) was made looking at a state that is gone: it is refused with 409 instead, and the
 * person looks again. This is what makes a Cancel racing a ReleaseToFulfillment end with exactly
 * one winner.
 */
export const RETRY_ON_CONFLICT: Record<OrderCommandType, boolean> = {
  PlaceOrder: false,
  ConfirmPayment: true,
  RecordStockReserved: true,
  RecordStockShortage: true,
  RequireApproval: false,
  RecordApproval: true,
  RecordRejection: true,
  ReleaseToFulfillment: false,
  RecordPacked: true,
  RecordShipped: true,
  RecordDelivered: true,
  Archive: false,
  Cancel: false,
  RequestRefund: false,
  RecordRefunded: true,
  PlaceHold: false,
  ReleaseHold: false,
  FlagException: true,
  ResolveException: false,
  // An approved change request and its refusal are facts from approval: re-decided on the new state,
  // so a change racing packing ends as exactly one of OrderChanged / OrderChangeRefused.
  ApplyChange: true,
  RefuseChange: true,
};

/** If-Match named a revision the order is no longer at: HTTP 412, gRPC ABORTED. */
export class OrderVersionMismatch extends Error {
  readonly code = 'ORDER_VERSION_MISMATCH';
  constructor(
    readonly orderId: string,
    readonly expected: number,
    readonly actual: number | 'no_stream',
  ) {
    super(`order ${orderId} is at revision ${String(actual)}, not ${expected}`);
    this.name = 'OrderVersionMismatch';
  }
}

export const CONCURRENT_MODIFICATION = 'ORDER_CONCURRENT_MODIFICATION';

export function concurrentModification(orderId: string, command: string): DomainError {
  return new DomainError(CONCURRENT_MODIFICATION, `order ${orderId} changed while ${command} was decided; read it again and retry`, { orderId, command });
}

/**
 * Who may act on which order (issue #16 data scoping): checked on the order as the command loads
 * it, inside the command's transaction, so there is no second read and no window between the check
 * and the append. False = the caller may not see the order: ORDER_NOT_FOUND, as for an unknown id.
 */
export type OrderScope = (order: { orderId: string; shopId: string }) => boolean;

/** Throws ORDER_NOT_FOUND (404 / NOT_FOUND) when the order is outside the caller's scope. */
export function assertInScope(state: ExistingOrder, scope: OrderScope | undefined): void {
  if (scope && !scope({ orderId: state.orderId, shopId: state.order.shopId })) throw OrderErrors.notFound(state.orderId);
}

export interface ChangeOptions {
  /** If-Match / expected_version: the revision the client decided on. */
  expectedRevision?: number;
  /** Overrides RETRY_ON_CONFLICT for this call. */
  retryOnConflict?: boolean;
  /**
   * Join this open transaction (the process manager's consumer transaction, or the HTTP/gRPC
   * request's, which also holds its Idempotency-Key row): load and append run on its connection.
   * A lost race then throws WrongExpectedVersion (when the command is re-decided on conflict) for
   * the owner of the transaction to run it all again, or the refusal at once.
   */
  tx?: SqlClient;
  /** Decide on this state instead of loading it (the runner's state inside its transaction). */
  loaded?: LoadedOrder;
  /** Outgoing commands committed with the change. */
  outbox?: NewEvent[];
  /** The caller's data scope, checked on the loaded order before anything is decided (see OrderScope). */
  scope?: OrderScope;
}

export interface ChangeResult {
  state: ExistingOrder;
  revision: number;
  /** Events this call appended (empty when `replayed`). */
  events: OrderEvent[];
  /** The command id had been applied before: nothing was written, the current order is returned. */
  replayed: boolean;
  /** Consequences the order refused (see decideWithReactions); empty when `replayed`. */
  skipped: Decision['skipped'];
}

const MAX_ATTEMPTS = 5;

export { toNewEvents } from './order-reactions';

/**
 * Every command on an existing order: load -> decide (with the order's own reactions, see
 * decideWithReactions) -> append the order's events and the outbox with the expected revision,
 * in one transaction. A command id seen before returns the order as it is (idempotent); a lost
 * race is retried or refused per RETRY_ON_CONFLICT; an If-Match that no longer holds is
 * OrderVersionMismatch.
 */
export class ChangeOrderHandler {
  constructor(
    private readonly store: OrderStore,
    private readonly rules: RuleSetSource,
  ) {}

  async execute(command: Exclude<OrderCommand, { type: 'PlaceOrder' }>, options: ChangeOptions = {}): Promise<ChangeResult> {
    const orderId = command.data.orderId;
    const retry = options.expectedRevision === undefined && (options.retryOnConflict ?? RETRY_ON_CONFLICT[command.type]);
    let loaded = options.loaded;
    for (let attempt = 1; ; attempt++) {
      loaded ??= await this.store.load(orderId, options.tx);
      const { state, revision } = loaded;
      if (!isExisting(state)) throw OrderErrors.notFound(orderId);
      // Before the replay check: a replayed command id must not confirm an out-of-scope order either.
      assertInScope(state, options.scope);
      if (loaded.events.some((e) => e.metadata.causationId === command.metadata.commandId)) {
        return { state, revision: revision as number, events: [], replayed: true, skipped: [] };
      }
      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new OrderVersionMismatch(orderId, options.expectedRevision, revision);
      }
      const decision = decideWithReactions(command, state, this.rules.current());
      const stateAfter = decision.stateAfter;
      if (!isExisting(stateAfter)) throw new Error('unreachable: an order cannot stop existing');
      const outbox = [...(options.outbox ?? []), ...decision.outbox];
      try {
        // Without a transaction of the caller's, a conflict at the store's own COMMIT still comes out of
        // commit() (handled below); in one, it may surface at the owner's COMMIT only where this
        // call would pass it on anyway (re-decided: the owner runs it all again; If-Match: the run
        // again finds the revision changed and answers OrderVersionMismatch).
        const conflictAtCommit = !options.tx || retry || options.expectedRevision !== undefined;
        const result = await this.store.commit(
          { orderId, events: decision.newEvents, expectedRevision: revision, stateAfter, ...(outbox.length > 0 ? { outbox } : {}), conflictAtCommit },
          options.tx,
        );
        return { state: stateAfter, revision: result.revision, events: decision.events, replayed: false, skipped: decision.skipped };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        if (options.expectedRevision !== undefined) throw new OrderVersionMismatch(orderId, options.expectedRevision, error.actual);
        // Inside the caller's transaction the failed append left it aborted: a retry here would
        // only meet 25P02. A conflict the command re-decides goes up; the owner of the
        // transaction (the consumer loop, the request's unit of work) runs it all again, which
        // loads and decides on the new state.
        if (options.tx && retry) throw error;
        if (!retry || attempt >= MAX_ATTEMPTS) throw concurrentModification(orderId, command.type);
        loaded = undefined;
      }
    }
  }
}
