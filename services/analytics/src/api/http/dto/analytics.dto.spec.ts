import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { PurchaseSuggestionsDto } from './analytics.dto';

const fields = (body: object) => validateSync(plainToInstance(PurchaseSuggestionsDto, body), { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);
const body = (from: string) => ({ warehouseId: 'WH-SH', from, items: [{ sku: 'TEA-LJ-250', leadTimeDays: 7, packSize: 12 }] });

describe('analytics day parameters', () => {
  it('a day that is not on the calendar (2026-02-30, 2025-02-29) is refused naming `from`, not answered with a 500', () => {
    expect(fields(body('2026-02-30'))).toContain('from');
    expect(fields(body('2025-02-29'))).toContain('from');
    expect(fields(body('2026-13-01'))).toContain('from');
    expect(fields(body('2024-02-29'))).toEqual([]);
  });
});
