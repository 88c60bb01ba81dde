/**
 * `value` as a PostgreSQL string literal for SQL sent as a simple query, with
 * values inlined (a batch of statements in one round trip). U+0000 is refused: PostgreSQL text
 * cannot store it, and inside a simple query's text it ends the protocol message early, so the
 * server answers 08P01 (protocol violation), which consumers read as a connection fault and retry
 * for ever. Refused here instead, before anything is sent, as the content error it is (a
 * RangeError: retried a bounded number of times, then dead-lettered; the connection stays usable).
 * `what` names the value in the error (e.g. 'a stream id').
 */
export function sqlLiteral(value: string, what = 'a text value'): string {
  if (value.includes('\u0000')) throw new RangeError(`${what} holds a NUL character (U+0000), which PostgreSQL text cannot store`);
  return escapeSqlLiteral(value);
}

const SPECIAL = /['\\]/;
const SPECIALS = /['\\]/g;

/**
 * What pg's escapeLiteral returns (quotes and backslashes doubled; with a backslash, E'...' behind a
 * space), built with one regular-expression replace instead of pg's concatenation per character:
 * the events of an append travel as one literal of a few KiB, and pg's loop made escaping the
 * largest allocator of order-intake's request path (issue #10, a sampled allocation profile).
 * No NUL check (sqlLiteral's): for JSON text and ISO times, which cannot hold a raw NUL.
 */
export function escapeSqlLiteral(value: string): string {
  if (!SPECIAL.test(value)) return `'${value}'`;
  const escaped = `'${value.replace(SPECIALS, '$&$&')}'`;
  return value.includes('\\') ? ` E${escaped}` : escaped;
}
