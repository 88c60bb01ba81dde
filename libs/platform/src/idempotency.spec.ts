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

  it('canonicalJson writes the same text as its first version did (stored request hashes stay comparable)', () => {
    // The first version, kept here as the reference.
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
    };
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ['a', 'B', 'b', '_', '10', '9', '顾客', 'é', 'e\u0301', '😀', '', 'quote"d'];
    const scalar = (): unknown => [null, undefined, true, false, 0, -1.5, 1e21, 'x', '', "it's", '\u0001', '茶'][Math.floor(random() * 12)];
    const build = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.4) return scalar();
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => build(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) o[keys[Math.floor(random() * keys.length)]] = build(depth + 1);
      return o;
    };
    for (let n = 0; n < 3_000; n++) {
      const v = build(0);
      expect(canonicalJson(v)).toBe(reference(v));
    }
    expect(canonicalJson({ at: new Date(0), f: () => 1, n: Number.NaN })).toBe(reference({ at: new Date(0), f: () => 1, n: Number.NaN }));
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3, undefined, [, 'x']];
    expect(canonicalJson(sparse)).toBe(reference(sparse));
    expect(canonicalJson(sparse)).toBe('[1,,3,null,[,"x"]]');
  });
});
