import type { Actor } from '@flowline/contracts';
import type { DomainError } from '@flowline/domain';
import type { LineAllocation, MissingStock } from '../domain/order-reservation.decider';
import type { EndOutcome, PartialReleaseOutcome, ReserveOutcome } from '../domain/policies/order-reservation.process';
import type { RequestedLine } from '../domain/policies/warehouse-allocation.policy';
import type { AdjustmentReason, OpenReservationLine, ReleaseReason, StockLevels } from '../domain/stock-ledger.decider';

/** Where a command came from, and how a repeat of it is recognised. */
export type CommandDedupe =
  /** A Kafka message: claimed in the messaging inbox by (group, eventId) in the same transaction. */
  | { kind: 'inbox'; group: string; eventId: string; eventType: string; topic: string; partition: number; offset: string }
  /**
   * A POST with an Idempotency-Key (or a gRPC request_id): the first outcome is stored and returned
   * for repeats of the same request; the same key with another request is refused (422).
   * `key` is scoped by operation; `clientKey` is the key as the client sent it (for messages).
   */
  | { kind: 'http'; key: string; clientKey: string };

/** Time, ids and actor come in from the edge; nothing below reads a clock. */
export interface CommandMeta {
  /** Id of this command (Kafka envelope eventId or a request id); causation of every event it writes. */
  commandId: string;
  correlationId: string;
  /** ISO "now" at the edge. */
  at: string;
  actor?: { kind: Actor['kind']; id: string; role?: string; name?: string };
  traceparent?: string;
  dedupe?: CommandDedupe;
}

export type InventoryCommand =
  | { type: 'ReserveStock'; meta: CommandMeta; orderId: string; reservationId: string; channel: string; lines: RequestedLine[]; expiresAt?: string; shopId?: string }
  | { type: 'ReleaseStock'; meta: CommandMeta; orderId: string; reason: ReleaseReason }
  | { type: 'CommitStock'; meta: CommandMeta; orderId: string }
  /** Part of the order's reservation back (an approved change removed lines / lowered quantities). */
  | { type: 'ReleaseStockLines'; meta: CommandMeta; orderId: string; lines: { sku: string; quantity: number; lineId?: string }[]; reason: ReleaseReason }
  | { type: 'ExpireReservation'; meta: CommandMeta; orderId: string }
  | { type: 'ReceiveStock'; meta: CommandMeta; sku: string; warehouseId: string; quantity: number; reference?: string }
  | { type: 'AdjustStock'; meta: CommandMeta; sku: string; warehouseId: string; delta: number; reason: AdjustmentReason; note?: string }
  | {
      type: 'ImportStock';
      meta: CommandMeta;
      sku: string;
      warehouseId: string;
      onHand: number;
      reserved: number;
      reservations: Omit<OpenReservationLine, 'reservationId'>[];
      source: string;
    }
  | { type: 'RecountReserved'; meta: CommandMeta; sku: string; warehouseId: string };

export type CommandOutcome =
  | { kind: 'reservation'; orderId: string; result: ReserveOutcome; reservationId: string }
  | { kind: 'reservation-end'; orderId: string; result: EndOutcome }
  | { kind: 'reservation-lines-released'; orderId: string; result: PartialReleaseOutcome }
  | { kind: 'level'; sku: string; warehouseId: string; levels: StockLevels; version: number; changed: boolean };

export type CommandResult =
  | { status: 'applied'; outcome: CommandOutcome }
  /** Seen before (inbox or idempotency key): nothing applied; `outcome` is the first one when known. */
  | { status: 'duplicate'; outcome?: CommandOutcome }
  /** Refused by a rule (DomainError): nothing applied for this command, the batch went on. */
  | { status: 'refused'; error: DomainError };

export type { LineAllocation, MissingStock };
