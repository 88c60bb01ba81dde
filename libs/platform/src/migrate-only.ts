import { Pool } from 'pg';
import { redactUrl, resolveDatabaseUrl, serviceDatabaseName } from './config';
import { ensureDatabaseExists } from './database';

/**
 * The migrate-only entry of a service (issue #18): `node dist/services/<svc>/src/main.js migrate`
 * or MIGRATE_ONLY=1. Runs every migration scope of the service's database (its own tables, the
 * event store's, libs/messaging's) and exits: no consumer, no listener. The k8s Job
 * `flowline-migrate-<svc>` runs it before a rollout; boot migrates too (under the same advisory
 * lock), so the Job is an early, visible failure rather than a requirement.
 */
export function migrateOnlyRequested(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.slice(2).includes('migrate') || ['1', 'true', 'yes'].includes((env.MIGRATE_ONLY ?? '').trim().toLowerCase());
}

/** Migrates the service's database (DATABASE_URL as the service resolves it), logs one JSON line per scope and exits 0 (1 on failure). */
export function runMigrateOnly(serviceName: string, migrate: (pool: Pool) => Promise<Record<string, unknown>>): void {
  const log = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), service: serviceName, msg, ...extra })}\n`);
  const url = resolveDatabaseUrl(serviceDatabaseName(serviceName));
  (async () => {
    await ensureDatabaseExists(url);
    const pool = new Pool({ connectionString: url, max: 2 });
    try {
      const results = await migrate(pool);
      for (const [scope, result] of Object.entries(results)) log('info', `migrations ${scope}`, { scope, result });
      log('info', 'migrate-only done', { database: redactUrl(url) });
    } finally {
      await pool.end();
    }
  })().then(
    () => process.exit(0),
    (error: unknown) => {
      log('fatal', 'migrate-only failed', { database: redactUrl(url), err: String((error as Error)?.stack ?? error) });
      process.exit(1);
    },
  );
}
