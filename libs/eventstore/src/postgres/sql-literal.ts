import { escapeLiteral } from 'pg';

/**
 * `value` as a PostgreSQL string literal (pg's escapeLiteral) for SQL sent as a simple query, with
 * values inlined (a batch of statements in one round trip). U+0000 is refused: PostgreSQL text
 * cannot store it, and inside a simple query's text it ends the protocol message early, so the
 * server answers 08P01 (protocol violation), which consumers read as a connection fault and retry
 * for ever. Refused here instead, before anything is sent, as the content error it is (a
 * RangeError: retried a bounded number of times, then dead-lettered; the connection stays usable).
 * `what` names the value in the error (e.g. 'a stream id').
 */
export function sqlLiteral(value: string, what = 'a text value'): string {
  if (value.includes('\u0000')) throw new RangeError(`${what} holds a NUL character (U+0000), which PostgreSQL text cannot store`);
  return escapeLiteral(value);
}
