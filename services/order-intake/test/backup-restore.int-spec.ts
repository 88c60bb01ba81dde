import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fold } from '@flowline/domain';
import { PostgresEventStore } from '@flowline/eventstore';
import { REPO_ROOT, adminDatabaseUrl, anOrderSubmission, createTestDatabase } from '@flowline/testing';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { summaryOf } from '../src/application/order-summary';
import { PlaceOrderHandler } from '../src/application/place-order.handler';
import type { OrderCommand } from '../src/domain/order.commands';
import { orderDecider } from '../src/domain/order.decider';
import { orderStreamId, type OrderEvent } from '../src/domain/order.events';
import { isExisting } from '../src/domain/order.state';
import { migrateOrderIntake } from '../src/infra/order-intake-schema';
import { PgOrderStore } from '../src/infra/pg-order-store';
import { defaultRules } from './support/order.fixtures';

// Restore drill (issue #18), against the real PostgreSQL with the real scripts: orders written
// through order-intake's store (event store + inline read table, one transaction each), a backup by
// scripts/backup.sh taken WHILE orders keep being written, more written after it, a restore by
// scripts/restore.sh into a new database; then the restored log must be exactly a prefix of the
// live log, the read table rebuilt from the restored log must equal the restored read table
// (checksums), and the restored store must take new writes. Owned by #18 (k8s/README.md runbook).

const hasTool = (t: string) => {
  try {
    execFileSync(t, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const TOOLS = hasTool('pg_dump') && hasTool('pg_restore') && hasTool('psql');

const sha = (rows: unknown[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');
const at = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2026-06-18T02:00:00.000Z');

interface Side {
  pool: Pool;
  eventStore: PostgresEventStore;
  store: PgOrderStore;
}

async function open(url: string, migrate: boolean): Promise<Side> {
  const pool = new Pool({ connectionString: url, max: 6 });
  if (migrate) await migrateOrderIntake(pool);
  const eventStore = await PostgresEventStore.create({ pool, schema: 'eventstore' });
  return { pool, eventStore, store: new PgOrderStore(pool, eventStore) };
}

async function closeSide(s?: Side) {
  await s?.eventStore.close().catch(() => undefined);
  await s?.pool.end().catch(() => undefined);
}

/** The log as (position, stream, revision, id, type, data, metadata) rows, in log order. */
async function logRows(pool: Pool) {
  const r = await pool.query(
    `SELECT global_position::text AS pos, stream_id, stream_position, event_id, event_type, data, metadata
       FROM eventstore.events ORDER BY global_position`,
  );
  return r.rows as { pos: string; stream_id: string }[];
}

/** order_summaries as stored, normalised to the OrderSummary shape. */
async function summaryTable(pool: Pool) {
  const r = await pool.query(
    `SELECT order_id, channel, channel_order_id, shop_id, stage, on_hold, in_exception, grand_total::int AS grand_total, currency,
            placed_at, updated_at, revision, movable_since, reserved, presale_next_at, short_skus
       FROM order_summaries ORDER BY order_id`,
  );
  return r.rows.map((x) => ({
    orderId: x.order_id,
    channel: x.channel,
    channelOrderId: x.channel_order_id,
    shopId: x.shop_id,
    stage: x.stage,
    onHold: x.on_hold,
    inException: x.in_exception,
    grandTotal: x.grand_total,
    currency: x.currency,
    placedAt: (x.placed_at as Date).toISOString(),
    updatedAt: (x.updated_at as Date).toISOString(),
    revision: x.revision,
    movableSince: (x.movable_since as Date).toISOString(),
    reserved: x.reserved,
    presaleNextAt: x.presale_next_at ? (x.presale_next_at as Date).toISOString() : null,
    shortSkus: (x.short_skus as string[] | null) ?? null,
  }));
}

/** The read table rebuilt from the log alone: every order stream folded with the decider. */
async function summariesFromLog(side: Side) {
  const r = await side.pool.query<{ stream_id: string }>(`SELECT DISTINCT stream_id FROM eventstore.events WHERE stream_id LIKE 'order-%' ORDER BY 1`);
  const out = [];
  for (const { stream_id } of r.rows) {
    const events = await side.eventStore.readStream(stream_id);
    const state = fold(orderDecider, events.map((e) => ({ type: e.type, data: e.data }) as OrderEvent));
    if (!isExisting(state)) continue; // not an order stream (e.g. a process stream sharing the prefix)
    const last = events[events.length - 1];
    const s = summaryOf(state, last.streamPosition, last.metadata.occurredAt);
    out.push({ ...s, grandTotal: Number(s.grandTotal) });
  }
  return out.sort((a, b) => (a.orderId < b.orderId ? -1 : 1));
}

const DRILL = 'restore drill: backup.sh while writing, restore.sh into a new database, projections rebuilt from the log';
describe.skipIf(!TOOLS)(TOOLS ? DRILL : `${DRILL} (skipped: pg_dump/pg_restore/psql not installed; apt-get install postgresql-client)`, () => {
  let live: Awaited<ReturnType<typeof createTestDatabase>>;
  let restoredName: string;
  let a: Side;
  let b: Side | undefined;
  let outDir: string;
  let seq = 0;
  const env = { ...process.env, PG_ADMIN_URL: adminDatabaseUrl() };

  beforeAll(async () => {
    live = await createTestDatabase('oi_restore_drill');
    restoredName = `${live.name}_restored`;
    a = await open(live.url, true);
    outDir = mkdtempSync(join(tmpdir(), 'flowline-backup-'));
  });

  afterAll(async () => {
    await closeSide(b);
    await closeSide(a);
    await live?.drop();
    const c = new Client({ connectionString: adminDatabaseUrl() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${restoredName}" WITH (FORCE)`).catch(() => undefined);
    await c.end();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  async function placeAndPay(side: Side, pay: boolean): Promise<string> {
    seq += 1;
    const orderId = `01KDRILL${String(seq).padStart(10, '0')}`;
    const t = T0 + seq * 60_000;
    const placed = await new PlaceOrderHandler(side.store, defaultRules).execute({
      type: 'PlaceOrder',
      data: { orderId, order: anOrderSubmission({ channelOrderId: `TM-DRILL-${seq}`, placedAt: at(t) }) },
      metadata: { commandId: `place-${orderId}`, correlationId: orderId, causationId: null, now: at(t) },
    });
    if (!isExisting(placed.state)) throw new Error('order not placed');
    if (pay) {
      const command = {
        type: 'ConfirmPayment',
        data: { orderId, amount: placed.state.order.totals.grandTotal, currency: 'CNY' },
        metadata: { commandId: `pay-${orderId}`, correlationId: orderId, causationId: null, now: at(t + 30_000) },
      } as unknown as Exclude<OrderCommand, { type: 'PlaceOrder' }>;
      await new ChangeOrderHandler(side.store, defaultRules).execute(command);
    }
    return orderId;
  }

  it('restores a consistent snapshot taken under writes; the log is a prefix of the live one and the read table rebuilds equal', async () => {
    const started = Date.now();
    for (let i = 0; i < 40; i++) await placeAndPay(a, i % 2 === 0);

    // Back up while a writer keeps placing orders (pg_dump takes one snapshot for the whole database).
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        await placeAndPay(a, n % 3 !== 0);
        n += 1;
      }
      return n;
    })();
    const backupDir = execFileSync('bash', [resolve(REPO_ROOT, 'scripts/backup.sh'), '-o', outDir, live.name], { env, encoding: 'utf8' }).trim().split('\n').at(-1) as string;
    writing = false;
    const duringBackup = await writer;
    for (let i = 0; i < 20; i++) await placeAndPay(a, true); // and after it
    const manifest = readFileSync(join(backupDir, 'MANIFEST'), 'utf8');
    expect(manifest).toContain(`${live.name}.dump`);

    execFileSync('bash', [resolve(REPO_ROOT, 'scripts/restore.sh'), join(backupDir, `${live.name}.dump`), restoredName], { env, stdio: 'pipe' });
    const url = new URL(adminDatabaseUrl());
    url.pathname = `/${restoredName}`;
    b = await open(url.toString(), false);

    // 1. The restored log is exactly the live log up to some position: nothing torn, nothing extra.
    const liveLog = await logRows(a.pool);
    const restoredLog = await logRows(b.pool);
    expect(restoredLog.length).toBeGreaterThanOrEqual(40 + 20); // the 40 orders (20 paid) before the backup
    expect(restoredLog.length).toBeLessThan(liveLog.length); // the 20 after it are not there
    expect(sha(restoredLog)).toBe(sha(liveLog.slice(0, restoredLog.length)));

    // 2. Projections rebuilt from the restored log equal the restored read table (the dump kept them in step).
    const table = await summaryTable(b.pool);
    const rebuilt = await summariesFromLog(b);
    expect(rebuilt.length).toBe(table.length);
    expect(sha(rebuilt)).toBe(sha(table));
    // ... and truncating the table and writing the rebuilt rows back gives the same checksum again.
    await b.pool.query('TRUNCATE order_summaries');
    for (const s of rebuilt)
      await b.pool.query(
        `INSERT INTO order_summaries (order_id, channel, channel_order_id, shop_id, stage, on_hold, in_exception, grand_total, currency,
                                      placed_at, updated_at, revision, movable_since, reserved, presale_next_at, short_skus)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [s.orderId, s.channel, s.channelOrderId, s.shopId, s.stage, s.onHold, s.inException, s.grandTotal, s.currency, s.placedAt, s.updatedAt, s.revision, s.movableSince, s.reserved, s.presaleNextAt ?? null, s.shortSkus ?? null],
      );
    expect(sha(await summaryTable(b.pool))).toBe(sha(table));

    // 3. The live read table, cut at the orders the restore has, matches it too.
    const restoredIds = new Set(table.map((s) => s.orderId));
    const liveAtBackup = (await summariesFromLog(a)).filter((s) => restoredIds.has(s.orderId));
    expect(liveAtBackup.length).toBe(table.length);

    // 4. The restored store takes writes (same cluster: its transaction ids are behind the server's).
    const next = await placeAndPay(b, true);
    expect((await b.store.load(next)).revision).toBe(1);
    expect(await b.eventStore.readStream(orderStreamId(next))).toHaveLength(2);

    console.log(`restore drill: ${restoredLog.length}/${liveLog.length} events restored, ${duringBackup} orders written during the backup, ${table.length} summaries, ${Date.now() - started} ms`);
  });

  it('restore.sh refuses an existing target and a dump whose checksum does not match', () => {
    const dirs = execFileSync('bash', [resolve(REPO_ROOT, 'scripts/backup.sh'), '-o', outDir, live.name], { env, encoding: 'utf8' }).trim().split('\n');
    const dump = join(dirs.at(-1) as string, `${live.name}.dump`);
    const run = (args: string[]) => {
      try {
        execFileSync('bash', [resolve(REPO_ROOT, 'scripts/restore.sh'), ...args], { env, stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
      }
    };
    expect(run([dump, live.name])).toContain('exists');
    // Tamper: a MANIFEST naming another checksum.
    const manifestPath = join(dirs.at(-1) as string, 'MANIFEST');
    const original = readFileSync(manifestPath, 'utf8');
    execFileSync('bash', ['-c', `sed -i 's/^[0-9a-f]\\{8\\}/00000000/' "${manifestPath}"`]);
    expect(readFileSync(manifestPath, 'utf8')).not.toBe(original);
    expect(run([dump, `${live.name}_x`])).toContain('checksum mismatch');
  });
});
