import type { Pool } from 'pg';

/** What a counted pool saw: statements sent, and transactions (a COMMIT, a ROLLBACK or a statement outside BEGIN). */
export interface DbWorkCount {
  statements: number;
  transactions: number;
}

/**
 * The pool as the code under test sees it, with every statement counted into `count` (and its text
 * pushed to `statements` when given): pool.query and the clients pool.connect() hands out. For tests
 * that assert statements and transactions per order (round trips and commits as upper bounds).
 */
export function countedPool(target: Pool, count: DbWorkCount, statements?: string[]): Pool {
  const counting = (query: (...a: unknown[]) => unknown, inTx: { open: boolean }) => (...args: unknown[]) => {
    const sql = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '');
    count.statements++;
    statements?.push(sql);
    if (/^\s*BEGIN/i.test(sql)) inTx.open = true;
    else if (/^\s*(COMMIT|ROLLBACK)/i.test(sql)) {
      inTx.open = false;
      count.transactions++;
    } else if (!inTx.open) count.transactions++;
    return query(...args);
  };
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop === 'query') return counting(t.query.bind(t) as (...a: unknown[]) => unknown, { open: false });
      if (prop === 'connect')
        return async () => {
          const client = await t.connect();
          const original = client.query.bind(client) as (...a: unknown[]) => unknown;
          (client as unknown as { query: unknown }).query = counting(original, { open: false });
          const release = client.release.bind(client);
          client.release = (err?: Error | boolean) => {
            (client as unknown as { query: unknown }).query = original;
            return release(err);
          };
          return client;
        };
      const v = Reflect.get(t, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}
