import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { isSku } from '@flowline/contracts';
import { IsSku, requireSku, SkuParam } from './sku';
import { RequestValidationError } from './validation';

class Line {
  @IsSku() sku!: string;
}

const errorsOf = (sku: unknown) => validateSync(plainToInstance(Line, { sku }));

describe('the one SKU form', () => {
  it.each([
    ['TEA-LJ-250'],
    ['A01/红色/XL'],
    ['LJ250*2'],
    ['TS01 白 XL'],
    ['1001#红'],
    ['【赠品】茶杯(大)'],
    ['6901234567890'],
    ['x'.repeat(64)],
  ])('takes a real seller code: %s', (sku) => {
    expect(isSku(sku)).toBe(true);
    expect(errorsOf(sku)).toEqual([]);
  });

  it.each([
    ['', 'is required'],
    ['x'.repeat(65), 'at most 64'],
    ['A01\tB', 'control characters'],
    ['A01\nB', 'control characters'],
    ['A\u200bB', 'control characters'],
    ['A\u2028B', 'control characters'],
    ['A\u0000B', 'control characters'],
    ['A\ud800B', 'control characters'],
  ])('refuses %j naming why', (sku, why) => {
    expect(isSku(sku)).toBe(false);
    const [e] = errorsOf(sku);
    expect(e?.property).toBe('sku');
    expect(Object.values(e?.constraints ?? {}).join(' ')).toContain(why);
  });

  it('normalises NFKC before checking, so a fullwidth code is the ASCII one', () => {
    const line = plainToInstance(Line, { sku: 'ＴＥＡ－０１' });
    expect(validateSync(line)).toEqual([]);
    expect(line.sku).toBe('TEA-01');
    // an ideographic space inside becomes a plain one; at either end it is trimmed, like any space
    // (a seller's code typed with a trailing space, as platforms pass it on)
    expect(plainToInstance(Line, { sku: 'TS01\u3000白' }).sku).toBe('TS01 白');
    expect(plainToInstance(Line, { sku: ' LJ250\u3000' }).sku).toBe('LJ250');
    expect(errorsOf('TS01\u3000')).toEqual([]);
    expect(isSku(' A01')).toBe(false); // the check itself (after normalisation nothing reaches it padded)
  });

  it('checks path, query and gRPC values the same way (400 naming the field)', () => {
    expect(requireSku('items.0.sku', 'Ａ01/红')).toBe('A01/红');
    expect(new SkuParam().transform('LJ250*2')).toBe('LJ250*2');
    try {
      requireSku('items.2.sku', 'A\tB');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RequestValidationError);
      expect((e as RequestValidationError).violations).toEqual([expect.objectContaining({ field: 'items.2.sku', constraint: 'isSku' })]);
    }
  });
});
