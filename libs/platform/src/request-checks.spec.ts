import { describe, expect, it } from 'vitest';
import { enumValue, enumValues, IdParam, pageSize, requireId } from './request-checks';
import { RequestValidationError } from './validation';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof RequestValidationError) return e.violations;
    throw e;
  }
  throw new Error('not refused');
};

const STAGES = { ORDER_STAGE_PLACED: 'placed', ORDER_STAGE_PAID: 'paid' } as const;

describe('request checks (never drop, clamp or default a bad value silently)', () => {
  it('refuses an empty id as required and a malformed one as format, naming the field', () => {
    expect(refusal(() => requireId('orderId', ''))).toEqual([expect.objectContaining({ field: 'orderId', constraint: 'required' })]);
    for (const bad of ['a b', '../etc', ' x', 'x?', 'a'.repeat(129), 'x\ty', 'a#b', "o'1"]) expect(refusal(() => requireId('orderId', bad))[0]).toMatchObject({ field: 'orderId', constraint: 'format' });
    for (const ok of ['01JDGZ6M3V8Q4R5S6T7U8V9W0X', 'TEA-LJ-250', 'stock-TEA@WH-HZ-01', 'o-hold', 'jd_9981', '红茶-250g']) expect(requireId('orderId', ok)).toBe(ok);
    expect(refusal(() => new IdParam('sku').transform('a b'))[0]).toMatchObject({ field: 'sku' });
  });

  it('takes a page size from 1 to max, 0 / absent as the default, refuses the rest', () => {
    expect(pageSize('page.pageSize', 0, { max: 100 })).toBeUndefined();
    expect(pageSize('page.pageSize', undefined, { max: 100 })).toBeUndefined();
    expect(pageSize('page.pageSize', 100, { max: 100 })).toBe(100);
    for (const bad of [-1, 101, 2.5]) expect(refusal(() => pageSize('page.pageSize', bad, { max: 100 }))[0]).toMatchObject({ field: 'page.pageSize', constraint: 'range' });
  });

  it('maps known enum names, refuses unknown names and numbers a newer client sends, naming the index', () => {
    expect(enumValues('stages', ['ORDER_STAGE_PAID'], STAGES)).toEqual(['paid']);
    expect(refusal(() => enumValues('stages', ['ORDER_STAGE_PAID', 99], STAGES))[0]).toMatchObject({ field: 'stages.1', constraint: 'isIn' });
    expect(refusal(() => enumValues('stages', ['ORDER_STAGE_UNSPECIFIED'], STAGES))[0]).toMatchObject({ field: 'stages.0', constraint: 'required' });
    expect(enumValue('flag', 'ORDER_FLAG_UNSPECIFIED', STAGES, { optional: true })).toBeUndefined();
    expect(refusal(() => enumValue('flag', 'ORDER_FLAG_LOST', STAGES, { optional: true }))[0]).toMatchObject({ field: 'flag', constraint: 'isIn' });
  });
});
