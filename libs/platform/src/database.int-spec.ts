import { adminDatabaseUrl, uniqueSuffix } from '@flowline/testing';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDatabaseExists } from './database';

describe('ensureDatabaseExists', () => {
  const name = `t_platform_ensure_${uniqueSuffix()}`;
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;

  afterAll(async () => {
    const admin = new Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('creates a missing database once, even when several services boot at the same time', async () => {
    const created = await Promise.all([ensureDatabaseExists(url.toString()), ensureDatabaseExists(url.toString()), ensureDatabaseExists(url.toString())]);
    expect(created.filter(Boolean)).toHaveLength(1);
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    const { rows } = await client.query('SELECT current_database() AS db');
    await client.end();
    expect(rows[0].db).toBe(name);
  });

  it('leaves an existing database alone', async () => {
    expect(await ensureDatabaseExists(url.toString())).toBe(false);
  });

  it('fails with the server address when PostgreSQL cannot be reached', async () => {
    await expect(ensureDatabaseExists('postgres://postgres@127.0.0.1:1/x', 1_000)).rejects.toThrow(/cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres/);
  });
});
