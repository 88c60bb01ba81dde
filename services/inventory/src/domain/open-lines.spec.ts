import { describe, expect, it } from 'vitest';
import { addLine, allLines, getLine, linesFrom, linesOfOrder, NO_LINES, removeLine } from './open-lines';

const line = (orderId: string, lineId: string, quantity: number) => ({ orderId, lineId, quantity, reservationId: `r-${orderId}` });

describe('open lines (persistent map)', () => {
  it('adds, replaces and removes lines while keeping count and sum', () => {
    let l = addLine(NO_LINES, line('o1', '1', 2));
    l = addLine(l, line('o1', '2', 3));
    l = addLine(l, line('o2', '1', 4));
    expect([l.count, l.sum]).toEqual([3, 9]);
    l = addLine(l, line('o1', '2', 1));
    expect([l.count, l.sum]).toEqual([3, 7]);
    l = removeLine(l, 'o1', '1');
    expect([l.count, l.sum]).toEqual([2, 5]);
    expect(removeLine(l, 'o9', '1')).toBe(l);
  });

  it('never changes an earlier version', () => {
    const before = linesFrom([line('o1', '1', 2)]);
    const after = addLine(before, line('o1', '2', 1));
    removeLine(after, 'o1', '1');
    expect(allLines(before)).toEqual([line('o1', '1', 2)]);
    expect(getLine(before, 'o1', '2')).toBeUndefined();
  });

  it('finds the lines of one order among thousands', () => {
    const l = linesFrom(Array.from({ length: 5000 }, (_, i) => line(`o${i % 1000}`, String(i), 1)));
    expect(l.count).toBe(5000);
    expect(linesOfOrder(l, 'o7').map((x) => x.lineId)).toEqual(['7', '1007', '2007', '3007', '4007']);
  });
});
