/*
 * Rebuilds analytics' facts from the Kafka topics next to the live ones; compares checksums, or swaps.
 *
 *   node -r @swc-node/register services/analytics/src/cli/rebuild.ts [--swap] [--keep-rebuild]
 *
 * Environment as for the service: DATABASE_URL (flowline_analytics by default), KAFKA_BROKERS,
 * KAFKA_TOPIC_PREFIX. Safe while the service runs. Exit 0 on success (and, without --swap, equal
 * checksums), 1 otherwise.
 */
import { createKafka } from '@flowline/messaging';
import { resolveDatabaseUrl, serviceDatabaseName } from '@flowline/platform';
import { Pool } from 'pg';
import { analyticsConfigFromEnv } from '../analytics.config';
import { rebuildAnalytics, rebuildId } from '../application/rebuild';

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv);
  const unknown = [...flags].filter((f) => !['--swap', '--keep-rebuild'].includes(f));
  if (unknown.length) {
    process.stderr.write(`unknown option(s): ${unknown.join(' ')}\n`);
    return 2;
  }
  const config = analyticsConfigFromEnv();
  const pool = new Pool({ connectionString: resolveDatabaseUrl(serviceDatabaseName('analytics')), max: 8 });
  pool.on('error', () => undefined);
  try {
    const report = await rebuildAnalytics({
      pool,
      kafka: createKafka({ clientId: 'analytics-rebuild' }),
      topicPrefix: config.topicPrefix,
      id: rebuildId(new Date(), Math.random()),
      swap: flags.has('--swap'),
      keepRebuild: flags.has('--keep-rebuild'),
      onProgress: (p) => process.stderr.write(`rebuild ${p.id}: ${p.phase}\n`),
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.swapped || report.equal ? 0 : 1;
  } catch (e) {
    process.stderr.write(`rebuild failed: ${(e as Error).stack ?? e}\n`);
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
