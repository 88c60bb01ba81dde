import { escapeLiteral } from 'pg';
import { describe, expect, it } from 'vitest';
import { escapeSqlLiteral, sqlLiteral } from './sql-literal';

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

  it("escapes exactly as pg's escapeLiteral on random text (quotes, backslashes, JSON, non-ASCII)", () => {
    const alphabet = ["'", '\\', '"', 'a', 'Z', '0', ' ', '\n', '{', '}', ':', ',', '茶', '😀', '\u0001', 'E'];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2_000; n++) {
      const length = Math.floor(random() * 40);
      let s = '';
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
      expect(escapeSqlLiteral(s)).toBe(escapeLiteral(s));
      expect(sqlLiteral(s)).toBe(escapeLiteral(s));
    }
    const json = JSON.stringify({ note: "it's a \\ path", zh: '顾客', nested: [{ q: "'" }] });
    expect(escapeSqlLiteral(json)).toBe(escapeLiteral(json));
  });
});
