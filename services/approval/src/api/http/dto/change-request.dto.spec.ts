import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { ChangeRequestDto } from './change-request.dto';

const paths = (errors: ValidationError[], prefix = ''): string[] =>
  errors.flatMap((e) => (e.children?.length ? paths(e.children, `${prefix}${e.property}.`) : [`${prefix}${e.property}`]));
const invalid = (body: object) => paths(validateSync(plainToInstance(ChangeRequestDto, body), { whitelist: true, forbidNonWhitelisted: true }));
const line = (over: object = {}) => ({ lineId: 'L9', sku: 'TEA-CUP-01', title: '茶杯', quantity: 2, unitPrice: 8800, ...over });

describe('a change request is held to the bounds of a placed order', () => {
  it('refuses quantities and prices an order would refuse (they reached the approval as a 1.5e22 total)', () => {
    expect(invalid({ orderId: 'o', quantities: [{ lineId: '1', quantity: 1152921504606846976 }] })).toEqual(['quantities.0.quantity']);
    expect(invalid({ orderId: 'o', addLines: [line({ unitPrice: 1152921504606846976 })] })).toEqual(['addLines.0.unitPrice']);
    expect(invalid({ orderId: 'o', addLines: [line({ quantity: 100_001 })] })).toEqual(['addLines.0.quantity']);
  });

  it("refuses an orderId that is not an id (400 naming it at once; '../../x' waited 2 s for the order, then a 404)", () => {
    for (const orderId of ['../../x', '', ' o', 'a'.repeat(129)]) expect(invalid({ orderId }), JSON.stringify(orderId)).toEqual(['orderId']);
    expect(invalid({ orderId: '01M98SVS6YCMA7WNY4N1T9E360' })).toEqual([]);
  });

  it('refuses a line discount larger than the line (a negative line amount)', () => {
    expect(invalid({ orderId: 'o', addLines: [line({ quantity: 1, unitPrice: 100, lineDiscount: 500 })] })).toEqual(['addLines.0.lineDiscount']);
    expect(invalid({ orderId: 'o', addLines: [line({ quantity: 2, unitPrice: 100, lineDiscount: 200 })] })).toEqual([]);
  });

  it('refuses a phone that is not digits and an invoice email that is not one', () => {
    expect(invalid({ orderId: 'o', shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路1号', phone: 'abc' } })).toEqual(['shippingAddress.phone']);
    expect(invalid({ orderId: 'o', invoice: { type: 'personal', title: '张三', email: 'not-an-email' } })).toEqual(['invoice.email']);
    expect(invalid({ orderId: 'o', shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路1号', phone: '13900001111' }, invoice: { type: 'personal', title: '张三', email: 'a@example.com' } })).toEqual([]);
  });
});
