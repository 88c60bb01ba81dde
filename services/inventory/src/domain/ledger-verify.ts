import { openReservedSum, type StockLedgerState } from './stock-ledger.decider';

/**
 * Ledger verification: reserved must equal the sum of open reservations, and the fast stock row the
 * service keeps must equal what the ledger's events fold to. Pure; the service feeds it the numbers.
 */
export interface LedgerCheckInput {
  sku: string;
  warehouseId: string;
  /** The stock row: on_hand and the reserved counter. */
  row: { onHand: number; reserved: number };
  /** Sum of open reservation lines held for this ledger (reservation table). */
  openReservationsSum: number;
  allowBackorder: boolean;
  /** Short after a shipment after a release (StockWentNegative published): reserved above on_hand is the recorded stock exception, not an oversell. */
  stockException?: boolean;
  /** The ledger folded from its events, when the check reads the stream too. */
  ledger?: StockLedgerState;
}

export interface LedgerDrift {
  sku: string;
  warehouseId: string;
  onHand: number;
  reserved: number;
  openReservationsSum: number;
  /** reserved - openReservationsSum */
  drift: number;
  problems: string[];
}

export function checkLedger(input: LedgerCheckInput): LedgerDrift | undefined {
  const { row } = input;
  const problems: string[] = [];
  if (row.onHand < 0) problems.push(`on_hand is negative (${row.onHand})`);
  if (row.reserved < 0) problems.push(`reserved is negative (${row.reserved})`);
  if (row.reserved !== input.openReservationsSum) {
    problems.push(`reserved ${row.reserved} differs from the sum of open reservations ${input.openReservationsSum}`);
  }
  if (!input.allowBackorder && !input.stockException && row.reserved > row.onHand) problems.push(`reserved ${row.reserved} exceeds on_hand ${row.onHand} (oversold)`);
  if (input.ledger) {
    const l = input.ledger;
    const onHand = l.status === 'active' ? l.onHand : 0;
    const reserved = l.status === 'active' ? l.reserved : 0;
    if (onHand !== row.onHand) problems.push(`ledger events give on_hand ${onHand}, stock row has ${row.onHand}`);
    if (reserved !== row.reserved) problems.push(`ledger events give reserved ${reserved}, stock row has ${row.reserved}`);
    const ledgerOpen = openReservedSum(l);
    if (ledgerOpen !== input.openReservationsSum) {
      problems.push(`ledger events hold ${ledgerOpen} units in open reservations, reservation table ${input.openReservationsSum}`);
    }
  }
  if (problems.length === 0) return undefined;
  return {
    sku: input.sku,
    warehouseId: input.warehouseId,
    onHand: row.onHand,
    reserved: row.reserved,
    openReservationsSum: input.openReservationsSum,
    drift: row.reserved - input.openReservationsSum,
    problems,
  };
}
