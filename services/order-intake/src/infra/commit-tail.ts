import { BatchPrepared, escapeSqlLiteral, KEYED_GENERIC_PLANS_SQL, type SqlClient, sqlLiteral } from '@flowline/eventstore';
import type { QueryResult } from 'pg';

/** Turns the error of the tail's round trip into the one the caller expects (e.g. ChannelOrderTaken), or undefined. */
export type TailErrorTranslator = (error: unknown) => Error | undefined;

interface Tail {
  statements: string[];
  /** Statements the server runs for `statements` (an entry may hold several). */
  count: number;
  translators: TailErrorTranslator[];
  /** Called with their statement's result once the COMMIT succeeded (index among the statements run). */
  onCommitted: { index: number; fn: (result: QueryResult) => void }[];
  /** The PREPAREs this tail carries, confirmed once its round trip succeeded (see BatchPrepared). */
  confirms: (() => void)[];
}

const tails = new WeakMap<SqlClient, Tail>();

/**
 * Writes of a request's transaction whose results nobody reads before the COMMIT (the order's read
 * table row, a first try's channel-order claim, the Idempotency-Key row) go to PostgreSQL with the
 * COMMIT, as one simple-protocol round trip (`stmt; stmt; COMMIT`), instead of one round trip each
 * (issue #10: round trips per command). The owner of the transaction opens the tail on its
 * connection before handing it out and ends it with commitWithTail (or dropCommitTail on rollback);
 * a writer on a connection without a tail (the process manager's consumer transaction) writes at
 * once, as before. A deferred statement that fails fails the COMMIT: the transaction rolls back
 * whole, which is what an error of the same statement sent earlier would have led to.
 */
export function openCommitTail(client: SqlClient): void {
  tails.set(client, { statements: [KEYED_GENERIC_PLANS_SQL], count: 1, translators: [], onCommitted: [], confirms: [] });
}

/** Whether `client`'s transaction has a commit tail open. */
export function hasCommitTail(client: SqlClient): boolean {
  return tails.has(client);
}

/**
 * Queues `text` with `params` for the COMMIT of `client`'s transaction, as `EXECUTE` of a statement
 * prepared once per connection with the parameters as literals (see preparedTail); false: no tail
 * open, run it now.
 */
export function deferToCommit(client: SqlClient, text: string, params: readonly unknown[], translate?: TailErrorTranslator): boolean {
  const tail = tails.get(client);
  if (!tail) return false;
  const { sql, confirm } = preparedTail(client, text, params);
  tail.statements.push(...sql);
  tail.count += sql.length;
  tail.confirms.push(confirm);
  if (translate) tail.translators.push(translate);
  return true;
}

/**
 * Queues `statements` statements that are already plain SQL (values inlined by their author, e.g.
 * the event store's deferredAppendSql; no `$n` is replaced) for the COMMIT; `onCommitted` gets the
 * last one's result once the COMMIT succeeded. False: no tail open (nothing queued).
 */
export function deferSqlToCommit(client: SqlClient, sql: string, translate?: TailErrorTranslator, onCommitted?: (result: QueryResult) => void, statements = 1): boolean {
  const tail = tails.get(client);
  if (!tail) return false;
  tail.statements.push(sql);
  tail.count += statements;
  if (translate) tail.translators.push(translate);
  if (onCommitted) tail.onCommitted.push({ index: tail.count - 1, fn: onCommitted });
  return true;
}

/** Sends the deferred statements, then `last` (each with its parameters, prepared as deferToCommit's), then COMMIT, in one round trip; ends the tail. */
export async function commitWithTail(client: SqlClient, last: readonly { text: string; params: readonly unknown[] }[] = []): Promise<void> {
  const tail = tails.get(client);
  tails.delete(client);
  const lasts = last.map((s) => preparedTail(client, s.text, s.params));
  const statements = [...(tail?.statements ?? [KEYED_GENERIC_PLANS_SQL]), ...lasts.flatMap((s) => s.sql), 'COMMIT'];
  let results: QueryResult | QueryResult[];
  try {
    results = await client.query(statements.join(';\n'));
  } catch (error) {
    for (const translate of tail?.translators ?? []) {
      const mapped = translate(error);
      if (mapped) throw mapped;
    }
    throw error;
  }
  for (const confirm of [...(tail?.confirms ?? []), ...lasts.map((s) => s.confirm)]) confirm();
  // More than one statement (there is always the COMMIT): pg answers with one result per statement.
  const each = Array.isArray(results) ? results : [results];
  for (const { index, fn } of tail?.onCommitted ?? []) fn(each[index]);
}

/** Forgets the tail of a transaction that rolls back. */
export function dropCommitTail(client: SqlClient): void {
  tails.delete(client);
}

const preparedByText = new Map<string, BatchPrepared>();

/**
 * The statements that run `text` with `params` in a tail: `EXECUTE name(literals)`, preceded by its
 * `PREPARE` on a connection's first use (BatchPrepared: a PREPARE outlives a rollback, so one whose
 * round trip failed is prepared again under a fresh name). Sent as literal text, the read-table
 * upsert, the channel claim and the key's row were parsed and planned anew by PostgreSQL on every
 * command (issue #10). A tail starts with KEYED_GENERIC_PLANS_SQL: these keyed inserts (and the
 * event store's deferred append) plan the same whatever their values (and, with sequential scans
 * off, whatever the size of the tables when they were planned), and left to choose,
 * PostgreSQL kept building a custom plan for a third of the upserts (pg_stat_statements: 2,496
 * plans for 7,200 runs). The parameter types are left to PostgreSQL to infer, as for the same
 * statement sent with parameters. `text` is one of this service's constant statements (the map
 * holds one entry per statement).
 */
function preparedTail(client: SqlClient, text: string, params: readonly unknown[]): { sql: string[]; confirm(): void } {
  let prepared = preparedByText.get(text);
  if (!prepared) preparedByText.set(text, (prepared = new BatchPrepared(null, text)));
  return prepared.statements(client, params.map(literal));
}

/**
 * A parameter as an SQL literal for EXECUTE. Strings are escaped with @flowline/eventstore's
 * sqlLiteral (a NUL refused), JSON of objects and dates with escapeSqlLiteral (the same escaping,
 * without the NUL check); PostgreSQL casts the untyped literal to the parameter's inferred type.
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`commit tail: ${value} is not a finite number`);
    return `'${String(value)}'`;
  }
  if (typeof value === 'bigint') return `'${value.toString()}'`;
  // A NUL is refused (sqlLiteral: it would break the simple query's protocol message); JSON and dates cannot hold one.
  if (typeof value === 'string') return sqlLiteral(value);
  if (value instanceof Date) return escapeSqlLiteral(value.toISOString());
  const json = JSON.stringify(value) as string | undefined;
  // Nothing to write (a function, a symbol): the empty text, as pg's escapeLiteral(undefined) gave.
  return json === undefined ? "''" : escapeSqlLiteral(json);
}
