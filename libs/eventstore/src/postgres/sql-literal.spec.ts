import { escapeLiteral } from 'pg';
import { describe, expect, it } from 'vitest';
import { sqlLiteral } from './sql-literal';

describe('sqlLiteral (a value inlined into a simple query)', () => {
  it('escapes as pg does: quotes doubled, a backslash turns the literal into E-syntax', () => {
    expect(sqlLiteral('order-1')).toBe(`'order-1'`);
    expect(sqlLiteral("O'Brien")).toBe(`'O''Brien'`);
    expect(sqlLiteral("a\\'; SELECT 1; --")).toBe(` E'a\\\\''; SELECT 1; --'`);
    expect(sqlLiteral('')).toBe(`''`);
    for (const v of ['淘宝-1234567890123456789', '\u0001\n\t', '😀']) expect(sqlLiteral(v)).toBe(escapeLiteral(v));
  });

  it('refuses a NUL anywhere in the value as a content error (RangeError naming the value), before anything is sent', () => {
    // U+0000 inside a simple query's text breaks its protocol message (08P01, which consumers
    // read as a connection fault and retry for ever).
    for (const v of ['\u0000', 'order-\u0000-1', 'tail\u0000']) {
      expect(() => sqlLiteral(v)).toThrow(RangeError);
      expect(() => sqlLiteral(v)).toThrow('a text value holds a NUL character (U+0000), which PostgreSQL text cannot store');
    }
    expect(() => sqlLiteral('s\u0000', 'a stream id')).toThrow(/^a stream id holds a NUL character/);
    // The escaped form of a NUL is text like any other.
    expect(sqlLiteral('\\u0000')).toBe(` E'\\\\u0000'`);
  });
});
