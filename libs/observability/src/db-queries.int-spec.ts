import { createTestDatabase } from '@flowline/testing';
import { Client, Pool } from 'pg';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDbQueries, DB_QUERIES_METRIC } from './db-queries';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase('obs_db_queries');
});
afterAll(async () => {
  await db?.drop();
});

async function count(database: string): Promise<number> {
  const metric = await register.getSingleMetric(DB_QUERIES_METRIC)?.get();
  return metric?.values.find((v) => v.labels.database === database)?.value ?? 0;
}

describe('flowline_db_queries_total', () => {
  it('counts every query a pg client sends, pool queries and transactions included, per database', async () => {
    expect(countDbQueries(__filename)).toBe(true);
    expect(countDbQueries(__filename)).toBe(true); // patched once
    const database = new URL(db.url).pathname.slice(1);
    const pool = new Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined);
    const before = await count(database);
    try {
      await pool.query('SELECT 1');
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query({ name: 'probe', text: 'SELECT $1::int AS n', values: [1] });
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      const direct = new Client({ connectionString: db.url });
      await direct.connect();
      await direct.query('SELECT 2');
      await direct.end();
    } finally {
      await pool.end();
    }
    expect((await count(database)) - before).toBe(5);
  });
});
