import { describe, expect, it } from 'vitest';
import { maskEmail, maskName, maskPhone, maskStreet } from './masking';

describe('maskName', () => {
  it.each([
    ['张', '张*'],
    ['张三', '张*'],
    ['张三丰', '张**'],
    ['欧阳娜娜', '欧***'],
    ['司马相如君', '司****'],
    ['爱新觉罗溥仪', '爱*****'],
    ['Li Lei', 'L*****'],
    ['  王五 ', '王*'],
  ])('keeps only the first character of %s: %s', (name, masked) => {
    expect(maskName(name)).toBe(masked);
  });

  it('gives an empty string for a missing or blank name', () => {
    expect(maskName('')).toBe('');
    expect(maskName('   ')).toBe('');
    expect(maskName(undefined)).toBe('');
    expect(maskName(null)).toBe('');
  });

  it('leaves an already masked name as it is', () => {
    for (const n of ['张', '欧阳娜娜', '爱新觉罗溥仪']) expect(maskName(maskName(n))).toBe(maskName(n));
  });
});

describe('maskPhone', () => {
  it.each([
    ['13812345678', '138****5678'],
    ['138-1234-5678', '138****5678'],
    ['138 1234 5678', '138****5678'],
  ])('an 11-digit mobile keeps its first three and last four digits: %s', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });

  it.each([
    ['010-12345678', '010-****5678'],
    ['021 87654321', '021-****4321'],
    ['0571-87654321', '0571-****4321'],
    ['0755-1234567', '0755-***4567'],
    ['(0571)87654321', '0571-****4321'],
  ])('a landline keeps its area code and last four digits: %s', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });

  it.each([
    ['+86 138 1234 5678', '+86 138****5678'],
    ['+8613812345678', '+86 138****5678'],
    ['008613812345678', '+86 138****5678'],
    ['8613812345678', '+86 138****5678'],
    ['+86 10 12345678', '+86 ******5678'],
  ])('a +86 number keeps the country code and masks the national number: %s', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });

  it('other numbers keep their last four digits; four digits or fewer are all stars', () => {
    expect(maskPhone('95588123')).toBe('****8123');
    expect(maskPhone('1234567')).toBe('***4567');
    expect(maskPhone('110')).toBe('***');
  });

  it('gives an empty string for a missing or blank phone', () => {
    expect(maskPhone('')).toBe('');
    expect(maskPhone('  ')).toBe('');
    expect(maskPhone(undefined)).toBe('');
    expect(maskPhone(null)).toBe('');
  });

  it('leaves a number masked upstream (by the channel or another service) unchanged', () => {
    for (const p of ['13812345678', '010-12345678', '0755-1234567', '+86 138 1234 5678', '95588123']) {
      expect(maskPhone(maskPhone(p))).toBe(maskPhone(p));
    }
  });
});

describe('maskEmail and maskStreet', () => {
  it('an e-mail keeps its first character and domain', () => {
    expect(maskEmail('zhang.san@example.com')).toBe('z***@example.com');
    expect(maskEmail('no-at-sign')).toBe('***');
    expect(maskEmail('')).toBe('');
    expect(maskEmail(maskEmail('zhang.san@example.com'))).toBe('z***@example.com');
    // A '*' in the address does not skip masking.
    expect(maskEmail('zhang*san@example.com')).toBe('z***@example.com');
    expect(maskEmail('*@example.com')).toBe('****@example.com');
  });

  it('a street keeps its first two characters; the detail is hidden entirely', () => {
    expect(maskStreet('文三路 90 号', '东部软件园')).toBe('文三******');
    expect(maskStreet('文三路 90 号', '')).toBe('文三****');
    expect(maskStreet('', '')).toBe('****');
  });
});
