/*
 * Imports a platform export file into Flowline, the way `POST /api/imports` does, in this process.
 *
 *   npm run import -- <file> --channel <c> [--items <file>] [--profile <id>] [--dry-run] [--json]
 *
 * Environment: DATABASE_URL (database flowline_channel_gateway by default), ORDER_INTAKE_URL
 * (http://127.0.0.1:3001), CHANNEL_PROFILE_DIRS (custom profiles). Safe to repeat and to interrupt:
 * the same file again is a no-op, an interrupted run of the same file resumes (every order once).
 * Exit code 0 when the run finished (rejected rows are in the report and the quarantine), 1 on an
 * error, 2 on bad arguments.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { CHANNELS, type Channel } from '@flowline/contracts';
import { isDomainError } from '@flowline/domain';
import { ensureDatabaseExists, resolveDatabaseUrl, serviceDatabaseName } from '@flowline/platform';
import { Pool } from 'pg';
import type { ImportReport } from '../application/import-report';
import { channelGatewayConfigFromEnv } from '../infra/channel-gateway.config';
import { createImportService } from '../infra/import-wiring';
import { migrateChannelGateway } from '../infra/pg-channel-store';
import { ProfileRegistry } from '../infra/profile-registry';

const USAGE = 'usage: npm run import -- <file> --channel <taobao|tmall|jd|pinduoduo|douyin|web|offline> [--items <file>] [--profile <id>] [--dry-run] [--json]';

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

function summary(r: ImportReport): string {
  const lines = [
    `import ${r.runId}${r.resumed ? ' (resumed)' : ''}${r.dryRun ? ' (dry run: nothing placed)' : ''}`,
    `  file      ${r.file.name} (${r.file.format}, ${r.file.encoding}${r.file.bom ? ' BOM' : ''})${r.itemsFile ? ` + items ${r.itemsFile.name} (${r.itemsFile.encoding})` : ''}`,
    `  profile   ${r.profile.id}@${r.profile.version} -> channel ${r.channel}`,
    `  rows      ${r.rowsRead} read, ${r.summaryRows} summary, ${r.duplicateRows} repeated, ${r.blankRows} blank`,
    `  orders    ${r.ordersSeen} seen: ${r.imported} ${r.dryRun ? 'new' : 'imported'}, ${r.duplicates} duplicates, ${r.updated} ${r.dryRun ? 'to update' : 'updated'}, ${r.waiting} waiting for their group, ${r.rejected.length} rejected`,
    `  auto-ingest rate ${(r.autoIngestRate * 100).toFixed(1)}%`,
  ];
  for (const x of r.rejected) {
    lines.push(`  rejected  row ${x.rowNumbers.join(',')} ${x.channelOrderId ?? ''} (quarantine ${x.quarantineId ?? '-'})`);
    for (const why of x.reasons) lines.push(`            ${why.code}: ${why.zh} / ${why.en}`);
  }
  for (const c of r.refusedChanges) lines.push(`  refused   ${c.channelOrderId} ${c.step}: ${c.code} ${c.message}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: { channel: { type: 'string' }, items: { type: 'string' }, profile: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    });
  }
  try {
    args = parse();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const file = args.positionals[0];
  const channel = args.values.channel;
  if (!file || args.positionals.length > 1 || !channel || !(CHANNELS as readonly string[]).includes(channel)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const url = resolveDatabaseUrl(serviceDatabaseName('channel-gateway'));
  await ensureDatabaseExists(url);
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  try {
    await migrateChannelGateway(pool);
    const { service } = createImportService(pool, channelGatewayConfigFromEnv().orderIntakeUrl, ProfileRegistry.fromEnv());
    const tty = process.stderr.isTTY === true;
    const report = await service.run({
      channel: channel as Channel,
      file: { name: basename(file), bytes: readFileSync(file) },
      ...(args.values.items ? { items: { name: basename(args.values.items), bytes: readFileSync(args.values.items) } } : {}),
      ...(args.values.profile ? { profileId: args.values.profile } : {}),
      dryRun: args.values['dry-run'] === true,
      onProgress: (done, total) => {
        if (tty) process.stderr.write(`\r${bar(done, total)}`);
        else if (done === total || done % 50 === 0) process.stderr.write(`${bar(done, total)}\n`);
      },
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(args.values.json ? `${JSON.stringify(report, null, 2)}\n` : `${summary(report)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`import failed: ${isDomainError(e) ? `${e.code}: ${e.message}` : (e as Error).stack}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`import failed: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
