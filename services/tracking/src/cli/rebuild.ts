/*
 * Rebuilds tracking's projections from the Kafka topics, next to the live tables, and swaps them in.
 *
 *   node -r @swc-node/register services/tracking/src/cli/rebuild.ts [--no-swap] [--keep-old] [--keep-rebuild] [--allow-skipped]
 *
 * --no-swap       build next to the live schema, print both checksums, then drop the rebuild
 *                 (add --keep-rebuild to keep it for inspection)
 * --keep-old      after a swap, keep the replaced schema as tracking_old_<id>
 * --allow-skipped swap even if some messages could not be applied (they are dead-lettered live too)
 *
 * Environment: DATABASE_URL (database flowline_tracking by default), KAFKA_BROKERS, KAFKA_TOPIC_PREFIX,
 * TRACKING_CONSUMER_GROUP and the TRACKING_SLA_* settings, as for the service. Safe while the service
 * runs: one rebuild at a time (advisory lock), live writes pause only for the swap itself.
 * Exit code 0 on success (and, with --no-swap, equal checksums), 1 otherwise.
 */
import { createKafka, pgTransactions } from '@flowline/messaging';
import { resolveDatabaseUrl, serviceDatabaseName } from '@flowline/platform';
import { Pool } from 'pg';
import { dropRebuildSchema, rebuildProjections } from '../application/rebuild';
import { projectionChecksum } from '../infra/checksum';
import { systemClock } from '../infra/clock';
import { ensureTrackingSchema, TRACKING_SCHEMA } from '../infra/tracking-schema';
import { trackingConfigFromEnv } from '../tracking.config';

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv);
  const unknown = [...flags].filter((f) => !['--no-swap', '--keep-old', '--keep-rebuild', '--allow-skipped'].includes(f));
  if (unknown.length) {
    process.stderr.write(`unknown option(s): ${unknown.join(' ')}\n`);
    return 2;
  }
  const config = trackingConfigFromEnv();
  const pool = new Pool({ connectionString: resolveDatabaseUrl(serviceDatabaseName('tracking')), max: 8 });
  pool.on('error', () => undefined);
  const kafka = createKafka({ clientId: 'tracking-rebuild' });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  try {
    await ensureTrackingSchema(pgTransactions(pool), TRACKING_SCHEMA);
    const swap = !flags.has('--no-swap');
    let lastPhase = '';
    let lastLog = 0;
    const report = await rebuildProjections({
      pool,
      kafka,
      topicPrefix: config.topicPrefix,
      consumerGroup: config.consumerGroup,
      sla: config.sla,
      clock: systemClock,
      swap,
      keepOld: flags.has('--keep-old'),
      allowSkipped: flags.has('--allow-skipped'),
      logger: { info: () => undefined, warn: (m, meta) => log(`warn: ${m} ${JSON.stringify(meta ?? {})}`), error: (m, meta) => log(`error: ${m} ${JSON.stringify(meta ?? {})}`) },
      onProgress: (p) => {
        // Every phase change, and every 5 s while replaying.
        if (p.phase === lastPhase && Date.now() - lastLog < 5_000) return;
        lastPhase = p.phase;
        lastLog = Date.now();
        log(`rebuild ${p.id} ${p.phase}: ${p.applied} events applied`);
      },
    });
    const out: Record<string, unknown> = { report };
    let ok = true;
    if (!swap) {
      const live = await projectionChecksum(pgTransactions(pool), TRACKING_SCHEMA);
      const rebuilt = await projectionChecksum(pgTransactions(pool), report.schema);
      out.live = live;
      out.rebuilt = rebuilt;
      out.equal = live.checksum === rebuilt.checksum;
      ok = live.checksum === rebuilt.checksum;
      if (!flags.has('--keep-rebuild')) await dropRebuildSchema(pool, report.schema);
    } else {
      out.checksum = await projectionChecksum(pgTransactions(pool), TRACKING_SCHEMA);
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return ok ? 0 : 1;
  } catch (e) {
    log(`rebuild failed: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
