import { FORCE_GENERIC_PLANS_SQL, guardPool } from '@flowline/eventstore';
import type { Pool, PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { namedStatement, type SqlQueryable } from '../sql';

/**
 * Runs a function inside one database transaction: commit when it resolves, roll back when it
 * throws. The consumer writes its inbox row through `tx.query` in the same transaction as the
 * handler's effects, which is what makes redelivery harmless.
 */
export interface TransactionRunner<Tx extends SqlQueryable> {
  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs one statement outside any handler transaction (schema set-up). */
  execute(sql: string): Promise<void>;
}

/** A pg transaction: `client` is the PoolClient with the transaction open. */
export interface PgTransaction extends SqlQueryable {
  client: PoolClient;
}

/** Options of {@link pgTransactions}. */
export interface PgTransactionOptions {
  /**
   * Run every statement of the transaction on its generic plan (`SET LOCAL plan_cache_mode =
   * force_generic_plan`, sent with the BEGIN: no extra round trip). For transactions made of
   * prepared statements (`queryPrepared`) whose best plan does not depend on the values, typically
   * batch writes keyed by id arrays: left to choose, PostgreSQL keeps re-planning a statement whose
   * custom plan looks cheaper (`= ANY($n)` or `unnest($n)` of a short array: the generic plan
   * assumes 10 elements) on every execution, which cost more backend CPU than running it (issue
   * #10, pg_stat_statements). Not for transactions whose statements need the values to plan well (a
   * partial index matched by a parameter, `$n IS NULL OR ...` filters).
   */
  genericPlans?: boolean;
}

/** Transactions on a `pg` Pool of the service database. */
export function pgTransactions(pool: Pool, options: PgTransactionOptions = {}): TransactionRunner<PgTransaction> {
  guardPool(pool);
  const begin = options.genericPlans ? `BEGIN; ${FORCE_GENERIC_PLANS_SQL}` : 'BEGIN';
  return {
    async run<T>(fn: (tx: PgTransaction) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      // A checked-out client has no pool listener: a backend terminated between two statements
      // emits 'error' on it, which would crash the process. The next statement fails instead.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query(begin);
        const tx: PgTransaction = {
          client,
          query: (sql, params) => client.query(sql, params as unknown[] | undefined),
          queryPrepared: (sql, params) => client.query(namedStatement(sql, params ?? [])),
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw e;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async execute(sql: string): Promise<void> {
      await pool.query(sql);
    },
  };
}

/** A TypeORM transaction: use `manager` for repositories; `query` runs on the same connection. */
export interface TypeOrmTransaction extends SqlQueryable {
  manager: EntityManager;
}

/** Transactions on a TypeORM DataSource (PostgreSQL). */
export function typeormTransactions(dataSource: DataSource): TransactionRunner<TypeOrmTransaction> {
  return {
    run<T>(fn: (tx: TypeOrmTransaction) => Promise<T>): Promise<T> {
      return dataSource.transaction(async (manager) => {
        const runner = manager.queryRunner;
        if (!runner) throw new Error('TypeORM transaction has no query runner');
        const tx: TypeOrmTransaction = {
          manager,
          async query(sql, params) {
            const r = await runner.query(sql, params as unknown[] | undefined, true);
            return { rows: r.records ?? [], rowCount: r.affected ?? r.records?.length ?? null };
          },
          async queryPrepared(sql, params) {
            // TypeORM's PostgreSQL runner holds the pg client of the transaction once connected.
            const client = (runner as unknown as { databaseConnection?: PoolClient }).databaseConnection;
            if (!client || typeof client.query !== 'function') return tx.query(sql, params);
            const r = await client.query(namedStatement(sql, params ?? []));
            return { rows: r.rows, rowCount: r.rowCount };
          },
        };
        return fn(tx);
      });
    },
    async execute(sql: string): Promise<void> {
      await dataSource.query(sql);
    },
  };
}
