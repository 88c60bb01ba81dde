/**
 * The open reservation lines of one ledger as a persistent (never mutated) map.
 *
 * A hot SKU holds thousands of open lines; copying a flat record on every reservation made a
 * batch of n reservations cost O(n^2). Lines are bucketed by order id, so adding or removing one
 * copies one bucket and the bucket index, and all lines of an order sit in one bucket.
 */
export interface OpenReservationLine {
  orderId: string;
  reservationId: string;
  lineId: string;
  quantity: number;
  /** Set for reserve-on-placement: released when due and still unpaid. */
  expiresAt?: string;
}

export interface OpenLines {
  readonly buckets: Readonly<Record<number, Readonly<Record<string, OpenReservationLine>>>>;
  /** Number of open lines. */
  readonly count: number;
  /** Sum of their quantities. */
  readonly sum: number;
}

const BUCKETS = 64;

/** Key of one reservation line inside a ledger. */
export function reservationKey(orderId: string, lineId: string): string {
  return `${orderId}/${lineId}`;
}

function bucketOf(orderId: string): number {
  // FNV-1a: cheap and stable.
  let h = 0x811c9dc5;
  for (let i = 0; i < orderId.length; i++) {
    h ^= orderId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

export const NO_LINES: OpenLines = Object.freeze({ buckets: Object.freeze({}), count: 0, sum: 0 });

export function getLine(lines: OpenLines, orderId: string, lineId: string): OpenReservationLine | undefined {
  return lines.buckets[bucketOf(orderId)]?.[reservationKey(orderId, lineId)];
}

/** Adds (or replaces) a line. */
export function addLine(lines: OpenLines, line: OpenReservationLine): OpenLines {
  const b = bucketOf(line.orderId);
  const key = reservationKey(line.orderId, line.lineId);
  const bucket = lines.buckets[b] ?? {};
  const previous = bucket[key];
  return {
    buckets: { ...lines.buckets, [b]: { ...bucket, [key]: line } },
    count: lines.count + (previous ? 0 : 1),
    sum: lines.sum + line.quantity - (previous?.quantity ?? 0),
  };
}

export function removeLine(lines: OpenLines, orderId: string, lineId: string): OpenLines {
  const b = bucketOf(orderId);
  const key = reservationKey(orderId, lineId);
  const bucket = lines.buckets[b];
  const previous = bucket?.[key];
  if (!bucket || !previous) return lines;
  const next = { ...bucket };
  delete next[key];
  return { buckets: { ...lines.buckets, [b]: next }, count: lines.count - 1, sum: lines.sum - previous.quantity };
}

/** Lines of one order, in insertion order. */
export function linesOfOrder(lines: OpenLines, orderId: string): OpenReservationLine[] {
  return Object.values(lines.buckets[bucketOf(orderId)] ?? {}).filter((l) => l.orderId === orderId);
}

export function allLines(lines: OpenLines): OpenReservationLine[] {
  return Object.values(lines.buckets).flatMap((b) => Object.values(b));
}

export function linesFrom(list: readonly OpenReservationLine[]): OpenLines {
  return list.reduce(addLine, NO_LINES);
}
