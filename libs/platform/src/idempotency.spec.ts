import { describe, expect, it } from 'vitest';
import { isDomainError } from '@flowline/domain';
import { canonicalJson, checkIdempotencyKey, IDEMPOTENCY_KEY_REUSED, idempotencyKeyReused, requestHash } from './idempotency';

describe('idempotency helpers', () => {
  it('hashes equal requests the same whatever their key order, and skips undefined fields', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: null }], a: 'x', u: undefined })).toBe('{"a":"x","b":[2,{"c":null,"d":1}]}');
    expect(requestHash({ sku: 'S', quantity: 3 })).toBe(requestHash({ quantity: 3, sku: 'S', note: undefined }));
  });

  it('hashes different requests differently', () => {
    expect(requestHash({ sku: 'S', quantity: 3 })).not.toBe(requestHash({ sku: 'S', quantity: 30 }));
    expect(requestHash([1, 2])).not.toBe(requestHash([2, 1]));
    expect(requestHash({ q: '3' })).not.toBe(requestHash({ q: 3 }));
  });

  it('refuses a reused key as an invalid request (422) whose message names the key', () => {
    const e = idempotencyKeyReused('rcpt-42');
    expect(isDomainError(e)).toBe(true);
    expect(e).toMatchObject({ code: IDEMPOTENCY_KEY_REUSED, kind: 'invalid' });
    expect(e.message).toContain('rcpt-42');
  });
});

describe('checkIdempotencyKey', () => {
  it('takes 1-200 printable ASCII characters; absent or empty is no key unless required; anything else is a 400 naming the header', () => {
    expect(checkIdempotencyKey('order-2026-0001')).toBe('order-2026-0001');
    expect(checkIdempotencyKey(undefined)).toBeUndefined();
    expect(checkIdempotencyKey('')).toBeUndefined();
    expect(() => checkIdempotencyKey(undefined, true)).toThrow(/required/);
    for (const bad of ['k'.repeat(201), 'key with space', '钥匙']) {
      expect(() => checkIdempotencyKey(bad)).toThrow(expect.objectContaining({ violations: [expect.objectContaining({ field: 'Idempotency-Key' })] }));
    }
  });
});
