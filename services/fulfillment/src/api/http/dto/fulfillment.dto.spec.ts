import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { CarrierEventDto, PackDto, ReturnLineDto, ScanDto, ShipDto } from './fulfillment.dto';

const fields = <T extends object>(cls: new () => T, body: object) => validateSync(plainToInstance(cls, body)).map((e) => e.property);

describe('fulfillment inputs a carrier or a scanner would never produce', () => {
  it('a waybill or tracking number of emoji or spaces is refused naming it; real ones pass', () => {
    expect(fields(PackDto, { carrier: 'SIM', waybillNo: '😀😀' })).toEqual(['waybillNo']);
    expect(fields(ShipDto, { trackingNumber: 'SF 123' })).toEqual(['trackingNumber']);
    expect(fields(PackDto, { carrier: 'SF', waybillNo: 'SF1402837465012' })).toEqual([]);
    expect(fields(ShipDto, { trackingNumber: 'JDVA00012345678-1-1-' })).toEqual([]);
  });

  it("a scanned or returned quantity above an order line's limit is refused naming `quantity` (2^60 reached the domain and was echoed rounded)", () => {
    for (const cls of [ScanDto, ReturnLineDto] as const) {
      expect(fields(cls, { sku: 'TEA-LJ-250', quantity: 1152921504606846976 })).toEqual(['quantity']);
      expect(fields(cls, { sku: 'TEA-LJ-250', quantity: 100_001 })).toEqual(['quantity']);
      expect(fields(cls, { sku: 'TEA-LJ-250', quantity: 100_000 })).toEqual([]);
      expect(fields(cls, { sku: 'TEA-LJ-250', quantity: 0 })).toEqual(['quantity']);
    }
  });

  it('a carrier event dated before 2000 or more than a day ahead is refused naming `at`', () => {
    const event = (at: string) => fields(CarrierEventDto, { state: 'delivered', description: '已签收', at });
    expect(event('1999-01-01T00:00:00Z')).toEqual(['at']);
    expect(event('9999-01-01T00:00:00Z')).toEqual(['at']);
    expect(event(new Date(Date.now() + 2 * 86_400_000).toISOString())).toEqual(['at']);
    expect(event(new Date(Date.now() - 3_600_000).toISOString())).toEqual([]);
  });
});
