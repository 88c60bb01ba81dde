import { adminDatabaseUrl, createTestDatabase } from '@flowline/testing';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardPool } from './pool-guard';

/**
 * A backend terminated under a checked-out client (what a PostgreSQL restart does to every
 * connection) used to emit an unhandled 'error' and kill the process. Vitest fails a file on any
 * uncaught error, so passing here means none escaped.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase('es_pool_guard');
});

afterAll(async () => {
  await db?.drop();
});

async function terminate(pid: number): Promise<void> {
  const admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

describe('guardPool', () => {
  it('survives the backend of a checked-out client being terminated mid-transaction; the pool serves again', async () => {
    const errors: Error[] = [];
    const pool = guardPool(new Pool({ connectionString: db.url, max: 2 }), (e) => errors.push(e));
    try {
      const client = await pool.connect();
      await client.query('BEGIN');
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await terminate(rows[0].pid);
      // Give the socket time to deliver the termination while no statement is in flight.
      await new Promise((r) => setTimeout(r, 300));
      expect(errors.length).toBeGreaterThan(0);
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      const again = await pool.query<{ one: number }>('SELECT 1 AS one');
      expect(again.rows[0].one).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('guards a client the pool made before guardPool (TypeORM connects once while initialising, then we guard)', async () => {
    const pool = new Pool({ connectionString: db.url, max: 1 });
    try {
      // The client made here, before the guard, is the one the pool hands out again below (max 1).
      (await pool.connect()).release();
      guardPool(pool);
      const client = await pool.connect();
      await client.query('BEGIN');
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await terminate(rows[0].pid);
      await new Promise((r) => setTimeout(r, 300));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('survives idle clients being terminated', async () => {
    const pool = guardPool(new Pool({ connectionString: db.url, max: 2 }));
    try {
      const c = await pool.connect();
      const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      c.release();
      await terminate(rows[0].pid);
      await new Promise((r) => setTimeout(r, 300));
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
