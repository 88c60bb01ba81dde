import { DomainError } from '@flowline/domain';
import { WrongExpectedVersion, type NewEvent, type SqlClient } from '@flowline/eventstore';
import type { OrderCommand, OrderCommandType } from '../domain/order.commands';
import { orderDecider } from '../domain/order.decider';
import { OrderErrors } from '../domain/order.errors';
import { orderStreamId, type OrderEvent } from '../domain/order.events';
import { isExisting, type ExistingOrder } from '../domain/order.state';
import { eventIdFor } from './ids';
import type { LoadedOrder, OrderStore } from './order-store.port';

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

export interface ChangeOptions {
  /** If-Match / expected_version: the revision the client decided on. */
  expectedRevision?: number;
  /** Overrides RETRY_ON_CONFLICT for this call. */
  retryOnConflict?: boolean;
  /** Join this open transaction (the process manager's consumer transaction). */
  tx?: SqlClient;
  /** Decide on this state instead of loading it (the runner's state inside its transaction). */
  loaded?: LoadedOrder;
  /** Outgoing commands committed with the change. */
  outbox?: NewEvent[];
}

export interface ChangeResult {
  state: ExistingOrder;
  revision: number;
  /** Events this call appended (empty when `replayed`). */
  events: OrderEvent[];
  /** The command id had been applied before: nothing was written, the current order is returned. */
  replayed: boolean;
}

const MAX_ATTEMPTS = 5;

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
 * Every command on an existing order: load -> decide -> append with the expected revision.
 * A command id seen before returns the order as it is (idempotent); a lost race is retried or
 * refused per RETRY_ON_CONFLICT; an If-Match that no longer holds is OrderVersionMismatch.
 */
export class ChangeOrderHandler {
  constructor(private readonly store: OrderStore) {}

  async execute(command: Exclude<OrderCommand, { type: 'PlaceOrder' }>, options: ChangeOptions = {}): Promise<ChangeResult> {
    const orderId = command.data.orderId;
    const streamId = orderStreamId(orderId);
    const retry = options.expectedRevision === undefined && (options.retryOnConflict ?? RETRY_ON_CONFLICT[command.type]);
    let loaded = options.loaded;
    for (let attempt = 1; ; attempt++) {
      loaded ??= await this.store.load(orderId);
      const { state, revision } = loaded;
      if (!isExisting(state)) throw OrderErrors.notFound(orderId);
      if (loaded.events.some((e) => e.metadata.causationId === command.metadata.commandId)) {
        return { state, revision: revision as number, events: [], replayed: true };
      }
      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new OrderVersionMismatch(orderId, options.expectedRevision, revision);
      }
      const events = orderDecider.decide(command, state);
      const stateAfter = events.reduce(orderDecider.evolve, state);
      if (!isExisting(stateAfter)) throw new Error('unreachable: an order cannot stop existing');
      try {
        const result = await this.store.commit(
          { orderId, events: toNewEvents(streamId, command, events), expectedRevision: revision, stateAfter, ...(options.outbox ? { outbox: options.outbox } : {}) },
          options.tx,
        );
        return { state: stateAfter, revision: result.revision, events, replayed: false };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        if (options.expectedRevision !== undefined) throw new OrderVersionMismatch(orderId, options.expectedRevision, error.actual);
        // Inside the caller's transaction the failed append left it aborted: a retry here would
        // only meet 25P02. The conflict goes up; the consumer loop runs the whole transaction
        // again (a conflict, retried without limit), which loads and decides on the new state.
        if (options.tx) throw error;
        if (!retry || attempt >= MAX_ATTEMPTS) {
          throw new DomainError(CONCURRENT_MODIFICATION, `order ${orderId} changed while ${command.type} was decided; read it again and retry`, {
            orderId,
            command: command.type,
          });
        }
        loaded = undefined;
      }
    }
  }
}
