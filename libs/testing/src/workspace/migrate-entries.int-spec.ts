import { spawn } from 'node:child_process';
import { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../infra';

// Issue #18: `main.ts migrate` (the k8s migrate Job's command) of the services whose own tests do not
// cover it (order-intake, inventory, approval, fulfillment test theirs in services/<svc>/test/*-migrations):
// on a fresh database it records every scope and exits 0 without starting consumers or listening.
const CASES: Array<{ service: string; scopes: string[] }> = [
  { service: 'tracking', scopes: ['messaging', 'tracking'] },
  { service: 'analytics', scopes: ['analytics', 'analytics_import', 'messaging'] },
  { service: 'channel-gateway', scopes: ['channel-gateway', 'messaging'] },
  { service: 'notification', scopes: ['messaging', 'notification', 'platform.rule-documents'] },
];

describe('migrate-only entries (real PostgreSQL, real processes)', () => {
  it.each(CASES)('$service: main.ts migrate records $scopes and exits 0', async ({ service, scopes }) => {
    const db = await createTestDatabase(`migrate_entry_${service.replace(/-/g, '_')}`);
    const pool = new Pool({ connectionString: db.url, max: 1 });
    // DROP DATABASE ... WITH (FORCE) below may still find this pool's client closing and terminate it
    // (57P01): an idle client's error is the pool's 'error' event, unhandled it would fail the run.
    pool.on('error', () => undefined);
    try {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', `services/${service}/src/main.ts`, 'migrate'], {
        cwd: process.cwd(),
        // Ports nobody should bind: a listening process would not exit and the test would time out.
        env: { ...process.env, DATABASE_URL: db.url, HTTP_PORT: '1', GRPC_PORT: '2', OTEL_SDK_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain('migrate-only done');
      const { rows } = await pool.query(`SELECT DISTINCT scope FROM flowline_schema_migrations ORDER BY scope`);
      expect(rows.map((r) => r.scope)).toEqual(scopes);
    } finally {
      await pool.end();
      await db.drop();
    }
  }, 180_000);
});
