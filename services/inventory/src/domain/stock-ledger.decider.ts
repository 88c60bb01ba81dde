import { DomainError, assertNever, type Decider } from '@flowline/domain';
import { addLine, linesFrom, linesOfOrder, NO_LINES, getLine, removeLine, type OpenLines, type OpenReservationLine } from './open-lines';

export { reservationKey, type OpenLines, type OpenReservationLine } from './open-lines';

/**
 * The stock ledger of one SKU in one warehouse (stream `stock-<sku>@<warehouseId>`).
 *
 * on_hand and reserved are derived from the ledger's events; `reservations` holds every open
 * reservation line so that "reserved equals the sum of open reservations" can be checked
 * (see {@link reservedDrift}). The two only differ after an import of data kept elsewhere, and
 * {@link StockLedgerCommand} `RecountReserved` repairs that.
 */

export type AdjustmentReason = 'count' | 'damage' | 'return';
export const ADJUSTMENT_REASONS: readonly AdjustmentReason[] = ['count', 'damage', 'return'];

/** Why reserved units went back to available. */
export type ReleaseReason = 'cancelled' | 'refunded' | 'expired' | 'compensation' | 'repair' | (string & {});

/** Per-SKU rules that come in on the command (the ledger holds no configuration). */
export interface StockPolicy {
  /** Units held back from sale in this warehouse. */
  safetyStock: number;
  /** Reservations may exceed what is available; the excess is a backorder. */
  allowBackorder: boolean;
}

export const DEFAULT_STOCK_POLICY: StockPolicy = Object.freeze({ safetyStock: 0, allowBackorder: false });

export type StockLedgerState =
  | { status: 'empty' }
  | {
      status: 'active';
      sku: string;
      warehouseId: string;
      onHand: number;
      /** Counter of reserved units; equals the sum of `reservations` unless imported data drifted. */
      reserved: number;
      /** Open reservation lines (a persistent map; see open-lines.ts). */
      reservations: OpenLines;
    };

interface LedgerRef {
  sku: string;
  warehouseId: string;
  /** ISO time of the change, from the edge. */
  at: string;
}

export type StockLedgerCommand =
  | ({ type: 'ReceiveStock'; quantity: number; reference?: string } & LedgerRef)
  | ({ type: 'AdjustStock'; delta: number; reason: AdjustmentReason; note?: string } & LedgerRef)
  /** Opening balance taken from another system; `reserved` may disagree with `reservations`. */
  | ({ type: 'ImportStock'; onHand: number; reserved: number; reservations: OpenReservationLine[]; source: string } & LedgerRef)
  | ({
      type: 'ReserveLines';
      orderId: string;
      reservationId: string;
      lines: { lineId: string; quantity: number }[];
      expiresAt?: string;
      policy: StockPolicy;
    } & LedgerRef)
  | ({ type: 'ReleaseOrder'; orderId: string; reason: ReleaseReason } & LedgerRef)
  | ({ type: 'CommitOrder'; orderId: string } & LedgerRef)
  /** Give back part of an order's open lines here (at most what each line holds). */
  | ({ type: 'ReleaseLines'; orderId: string; lines: { lineId: string; quantity: number }[]; reason: ReleaseReason } & LedgerRef)
  /** The parcel of an order whose reservation was released left anyway: its units leave on_hand. */
  | ({ type: 'ShipReleasedLines'; orderId: string; reservationId: string; lines: { lineId: string; quantity: number }[] } & LedgerRef)
  | ({ type: 'RecountReserved' } & LedgerRef);

interface LedgerEventBase {
  sku: string;
  warehouseId: string;
  at: string;
}

export type StockLedgerEvent =
  | ({ type: 'StockReceived'; quantity: number; reference?: string } & LedgerEventBase)
  | ({ type: 'StockAdjusted'; delta: number; reason: AdjustmentReason; note?: string } & LedgerEventBase)
  | ({ type: 'StockImported'; onHand: number; reserved: number; reservations: OpenReservationLine[]; source: string } & LedgerEventBase)
  | ({ type: 'StockLineReserved'; orderId: string; reservationId: string; lineId: string; quantity: number; expiresAt?: string } & LedgerEventBase)
  | ({ type: 'StockLineReleased'; orderId: string; reservationId: string; lineId: string; quantity: number; reason: ReleaseReason } & LedgerEventBase)
  | ({ type: 'StockLineCommitted'; orderId: string; reservationId: string; lineId: string; quantity: number } & LedgerEventBase)
  /** Units shipped although their reservation had been released (cancel/refund while packed): on_hand drops, available may go negative. */
  | ({ type: 'StockShippedAfterRelease'; orderId: string; reservationId: string; lineId: string; quantity: number } & LedgerEventBase)
  /**
   * Stock exception: a shipment after a release left fewer units on hand than are reserved for other
   * orders. `available` is on_hand - reserved (negative, safety stock not counted).
   */
  | ({ type: 'StockWentNegative'; orderId: string; onHand: number; reserved: number; available: number } & LedgerEventBase)
  | ({ type: 'ReservedRecounted'; previous: number; corrected: number } & LedgerEventBase);

export type StockLedgerEventType = StockLedgerEvent['type'];
export const STOCK_LEDGER_EVENT_TYPES: readonly StockLedgerEventType[] = [
  'StockReceived',
  'StockAdjusted',
  'StockImported',
  'StockLineReserved',
  'StockLineReleased',
  'StockLineCommitted',
  'StockShippedAfterRelease',
  'StockWentNegative',
  'ReservedRecounted',
];

/** `<sku>@<warehouseId>`: the ledger's identity. */
export function ledgerKey(sku: string, warehouseId: string): string {
  return `${sku}@${warehouseId}`;
}

export function ledgerStreamId(sku: string, warehouseId: string): string {
  return `stock-${ledgerKey(sku, warehouseId)}`;
}

export function isPositiveInteger(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

/** Levels of a ledger, derived. `available` never goes below 0; `backordered` is reserved beyond on_hand. */
export interface StockLevels {
  onHand: number;
  reserved: number;
  available: number;
  backordered: number;
}

export function levelsOf(state: StockLedgerState, safetyStock = 0): StockLevels {
  if (state.status === 'empty') return { onHand: 0, reserved: 0, available: 0, backordered: 0 };
  return {
    onHand: state.onHand,
    reserved: state.reserved,
    available: Math.max(0, state.onHand - state.reserved - safetyStock),
    backordered: Math.max(0, state.reserved - state.onHand),
  };
}

/** Sum of open reservation lines. */
export function openReservedSum(state: StockLedgerState): number {
  return state.status === 'empty' ? 0 : state.reservations.sum;
}

/** reserved - sum(open reservations); 0 when the ledger is consistent. */
export function reservedDrift(state: StockLedgerState): number {
  return state.status === 'empty' ? 0 : state.reserved - openReservedSum(state);
}

/** Open lines of one order in this ledger, in line order. */
export function openLinesOf(state: StockLedgerState, orderId: string): OpenReservationLine[] {
  return state.status === 'empty' ? [] : linesOfOrder(state.reservations, orderId);
}

/**
 * Most units one ledger (SKU x warehouse) holds: the read models keep on_hand in a 32-bit integer
 * column. Beyond it a receipt or adjustment is refused with a reason (422), not failed by the
 * database (500) after the event was decided.
 */
export const MAX_ON_HAND = 2_147_483_647;

function requireWithinLimit(next: number, command: LedgerRef): void {
  if (next > MAX_ON_HAND) {
    throw new DomainError('ON_HAND_LIMIT', `${command.sku} in ${command.warehouseId} would hold ${next} units, more than the ${MAX_ON_HAND} one ledger can`, { next, limit: MAX_ON_HAND }, 'invalid');
  }
}

function requirePositive(quantity: number, what: string): void {
  if (!isPositiveInteger(quantity)) {
    throw new DomainError('INVALID_QUANTITY', `${what} must be a positive integer, got ${quantity}`, { quantity }, 'invalid');
  }
}

function base(c: LedgerRef): LedgerEventBase {
  return { sku: c.sku, warehouseId: c.warehouseId, at: c.at };
}

function decide(command: StockLedgerCommand, state: StockLedgerState): StockLedgerEvent[] {
  const onHand = state.status === 'active' ? state.onHand : 0;
  const reserved = state.status === 'active' ? state.reserved : 0;
  switch (command.type) {
    case 'ReceiveStock': {
      requirePositive(command.quantity, 'received quantity');
      requireWithinLimit(onHand + command.quantity, command);
      return [{ type: 'StockReceived', ...base(command), quantity: command.quantity, ...(command.reference ? { reference: command.reference } : {}) }];
    }
    case 'AdjustStock': {
      if (!Number.isInteger(command.delta) || command.delta === 0) {
        throw new DomainError('INVALID_QUANTITY', `adjustment delta must be a non-zero integer, got ${command.delta}`, { delta: command.delta }, 'invalid');
      }
      if (!ADJUSTMENT_REASONS.includes(command.reason)) {
        throw new DomainError('INVALID_REASON', `adjustment reason must be one of ${ADJUSTMENT_REASONS.join(', ')}`, { reason: command.reason }, 'invalid');
      }
      const next = onHand + command.delta;
      requireWithinLimit(next, command);
      if (next < 0) {
        throw new DomainError('NEGATIVE_ON_HAND', `adjustment would leave ${next} on hand of ${command.sku} in ${command.warehouseId}`, { onHand, delta: command.delta });
      }
      // Units promised to orders cannot be adjusted away silently: release those orders first.
      if (command.delta < 0 && next < reserved) {
        throw new DomainError(
          'ADJUSTMENT_BELOW_RESERVED',
          `adjustment would leave ${next} on hand of ${command.sku} in ${command.warehouseId} but ${reserved} are reserved`,
          { onHand, reserved, delta: command.delta },
        );
      }
      return [
        { type: 'StockAdjusted', ...base(command), delta: command.delta, reason: command.reason, ...(command.note ? { note: command.note } : {}) },
      ];
    }
    case 'ImportStock': {
      if (state.status !== 'empty') {
        throw new DomainError('LEDGER_NOT_EMPTY', `ledger ${ledgerKey(command.sku, command.warehouseId)} already has history; import only opens a ledger`);
      }
      if (!Number.isInteger(command.onHand) || command.onHand < 0 || !Number.isInteger(command.reserved) || command.reserved < 0) {
        throw new DomainError('INVALID_QUANTITY', 'imported on_hand and reserved must be integers >= 0', { onHand: command.onHand, reserved: command.reserved }, 'invalid');
      }
      requireWithinLimit(Math.max(command.onHand, command.reserved), command);
      for (const r of command.reservations) requirePositive(r.quantity, 'imported reservation quantity');
      // One hold per order line: a repeated line would be released once and leave the other locked.
      const lines = new Set<string>();
      for (const r of command.reservations) {
        const key = `${r.orderId}\u0000${r.lineId}`;
        if (lines.has(key)) throw new DomainError('IMPORT_DUPLICATE_RESERVATION', `line ${r.lineId} of order ${r.orderId} is listed twice in the imported reservations`, { orderId: r.orderId, lineId: r.lineId }, 'invalid');
        lines.add(key);
      }
      return [
        { type: 'StockImported', ...base(command), onHand: command.onHand, reserved: command.reserved, reservations: command.reservations, source: command.source },
      ];
    }
    case 'ReserveLines': {
      if (command.lines.length === 0) throw new DomainError('NO_LINES', 'a reservation needs at least one line', {}, 'invalid');
      let requested = 0;
      for (const l of command.lines) {
        requirePositive(l.quantity, `quantity of line ${l.lineId}`);
        if (state.status === 'active' && getLine(state.reservations, command.orderId, l.lineId)) {
          throw new DomainError('LINE_ALREADY_RESERVED', `line ${l.lineId} of order ${command.orderId} is already reserved in ${ledgerKey(command.sku, command.warehouseId)}`);
        }
        requested += l.quantity;
      }
      const { available } = levelsOf(state, command.policy.safetyStock);
      if (requested > available && !command.policy.allowBackorder) {
        throw new DomainError(
          'INSUFFICIENT_STOCK',
          `${requested} of ${command.sku} requested in ${command.warehouseId}, ${available} available`,
          { sku: command.sku, warehouseId: command.warehouseId, requested, available },
        );
      }
      return command.lines.map((l) => ({
        type: 'StockLineReserved' as const,
        ...base(command),
        orderId: command.orderId,
        reservationId: command.reservationId,
        lineId: l.lineId,
        quantity: l.quantity,
        ...(command.expiresAt ? { expiresAt: command.expiresAt } : {}),
      }));
    }
    case 'ReleaseOrder':
      // Nothing open for the order here: releasing twice is harmless.
      return openLinesOf(state, command.orderId).map((r) => ({
        type: 'StockLineReleased' as const,
        ...base(command),
        orderId: r.orderId,
        reservationId: r.reservationId,
        lineId: r.lineId,
        quantity: r.quantity,
        reason: command.reason,
      }));
    case 'ReleaseLines':
      return command.lines.flatMap((l) => {
        const open = state.status === 'active' ? getLine(state.reservations, command.orderId, l.lineId) : undefined;
        const quantity = Math.min(l.quantity, open?.quantity ?? 0);
        if (!open || quantity <= 0) return [];
        return [{ type: 'StockLineReleased' as const, ...base(command), orderId: open.orderId, reservationId: open.reservationId, lineId: open.lineId, quantity, reason: command.reason }];
      });
    case 'CommitOrder':
      return openLinesOf(state, command.orderId).map((r) => ({
        type: 'StockLineCommitted' as const,
        ...base(command),
        orderId: r.orderId,
        reservationId: r.reservationId,
        lineId: r.lineId,
        quantity: r.quantity,
      }));
    case 'ShipReleasedLines': {
      const shipped: StockLedgerEvent[] = command.lines
        .filter((l) => l.quantity > 0)
        .map((l) => ({
          type: 'StockShippedAfterRelease' as const,
          ...base(command),
          orderId: command.orderId,
          reservationId: command.reservationId,
          lineId: l.lineId,
          quantity: l.quantity,
        }));
      const left = onHand - shipped.reduce((n, e) => n + (e.type === 'StockShippedAfterRelease' ? e.quantity : 0), 0);
      // The units left physically: record it, and raise a stock exception when others' reservations are no longer covered.
      if (shipped.length > 0 && left - reserved < 0) {
        shipped.push({ type: 'StockWentNegative', ...base(command), orderId: command.orderId, onHand: left, reserved, available: left - reserved });
      }
      return shipped;
    }
    case 'RecountReserved': {
      const corrected = openReservedSum(state);
      if (state.status === 'empty' || corrected === state.reserved) return [];
      return [{ type: 'ReservedRecounted', ...base(command), previous: state.reserved, corrected }];
    }
    default:
      return assertNever(command, 'stock ledger command');
  }
}

function active(state: StockLedgerState, e: LedgerEventBase): Extract<StockLedgerState, { status: 'active' }> {
  return state.status === 'active' ? state : { status: 'active', sku: e.sku, warehouseId: e.warehouseId, onHand: 0, reserved: 0, reservations: NO_LINES };
}

function evolve(state: StockLedgerState, event: StockLedgerEvent): StockLedgerState {
  const s = active(state, event);
  switch (event.type) {
    case 'StockReceived':
      return { ...s, onHand: s.onHand + event.quantity };
    case 'StockAdjusted':
      return { ...s, onHand: s.onHand + event.delta };
    case 'StockImported':
      return { ...s, onHand: event.onHand, reserved: event.reserved, reservations: linesFrom(event.reservations) };
    case 'StockLineReserved':
      return {
        ...s,
        reserved: s.reserved + event.quantity,
        reservations: addLine(s.reservations, {
          orderId: event.orderId,
          reservationId: event.reservationId,
          lineId: event.lineId,
          quantity: event.quantity,
          ...(event.expiresAt ? { expiresAt: event.expiresAt } : {}),
        }),
      };
    case 'StockLineReleased': {
      // A partial release (ReleaseLines) leaves the rest of the line open.
      const open = getLine(s.reservations, event.orderId, event.lineId);
      const reservations =
        open && open.quantity > event.quantity ? addLine(s.reservations, { ...open, quantity: open.quantity - event.quantity }) : removeLine(s.reservations, event.orderId, event.lineId);
      return { ...s, reserved: s.reserved - event.quantity, reservations };
    }
    case 'StockLineCommitted':
      return {
        ...s,
        onHand: s.onHand - event.quantity,
        reserved: s.reserved - event.quantity,
        reservations: removeLine(s.reservations, event.orderId, event.lineId),
      };
    case 'StockShippedAfterRelease':
      return { ...s, onHand: s.onHand - event.quantity };
    case 'StockWentNegative':
      return s;
    case 'ReservedRecounted':
      return { ...s, reserved: event.corrected };
    default:
      return assertNever(event, 'stock ledger event');
  }
}

export const stockLedgerDecider: Decider<StockLedgerState, StockLedgerCommand, StockLedgerEvent> = {
  initialState: () => ({ status: 'empty' }),
  decide,
  evolve,
};
