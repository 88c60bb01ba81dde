import type { Channel } from '@flowline/contracts';
import { pgTransactions } from '@flowline/messaging';
import { runMigrations, type Migration } from '@flowline/platform';
import type { Pool } from 'pg';
import type { ChannelOrderRecord, ChannelStore, IngestStats, QuarantineEntry, RunKey } from '../application/channel-store.port';
import type { ImportReport } from '../application/import-report';
import type { ChannelOrderDraft } from '../domain/import/map-orders';
import type { RejectReason } from '../domain/import/rejections';
import type { Table } from '../domain/import/table';
import type { AppliedStep } from '../domain/sync/order-sync.policy';

/**
 * channel-gateway's tables (database flowline_channel_gateway) as versioned, checksummed, forward-only
 * migrations (libs/platform runMigrations, scope `channel-gateway`), run at every boot and by the
 * import CLI under runMigrations' advisory lock. A change is a new migration appended to the list,
 * never an edit of a released one. v1 keeps `IF NOT EXISTS` so databases created before migrations
 * existed are adopted as they are.
 */
export function channelGatewayMigrations(): Migration[] {
  return [
    {
      version: 1,
      name: 'baseline: channel_orders, import_runs, quarantine, connector_checkpoints, stock_push',
      statements: [
        `CREATE TABLE IF NOT EXISTS channel_orders (
        channel text NOT NULL,
        channel_order_id text NOT NULL,
        order_id text NOT NULL,
        shop_id text NOT NULL,
        platform_status text NOT NULL,
        applied_steps text[] NOT NULL DEFAULT '{}',
        fingerprint text NOT NULL,
        profile_id text NOT NULL,
        profile_version int NOT NULL,
        pii jsonb NOT NULL,
        money jsonb NOT NULL,
        draft jsonb NOT NULL,
        raw_rows jsonb NOT NULL,
        touched_by_person boolean NOT NULL DEFAULT false,
        last_run_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel, channel_order_id)
      )`,
        `CREATE TABLE IF NOT EXISTS import_runs (
        run_id text PRIMARY KEY,
        channel text NOT NULL,
        profile_id text NOT NULL,
        profile_version int NOT NULL,
        file_name text NOT NULL,
        file_sha256 text NOT NULL,
        items_sha256 text,
        status text NOT NULL,
        report jsonb,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`,
        `CREATE INDEX IF NOT EXISTS import_runs_unfinished ON import_runs (channel, profile_id, profile_version, file_sha256) WHERE status = 'running'`,
        `CREATE TABLE IF NOT EXISTS quarantine (
        id bigserial PRIMARY KEY,
        run_id text,
        channel text NOT NULL,
        channel_order_id text,
        profile_id text NOT NULL,
        profile_version int NOT NULL,
        order_table jsonb NOT NULL,
        items_table jsonb,
        reasons jsonb NOT NULL,
        status text NOT NULL DEFAULT 'open',
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      )`,
        `CREATE TABLE IF NOT EXISTS connector_checkpoints (
        platform text NOT NULL,
        shop_id text NOT NULL,
        checkpoint timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (platform, shop_id)
      )`,
        `CREATE UNIQUE INDEX IF NOT EXISTS quarantine_open_order ON quarantine (channel, channel_order_id) WHERE status = 'open'`,
        `CREATE TABLE IF NOT EXISTS stock_push (
          platform text NOT NULL,
          shop_id text NOT NULL,
          sku text NOT NULL,
          atp int NOT NULL,
          version bigint NOT NULL,
          pushed_version bigint NOT NULL DEFAULT 0,
          pushed_atp int,
          pushed_at timestamptz,
          attempts int NOT NULL DEFAULT 0,
          last_error text,
          PRIMARY KEY (platform, shop_id, sku)
        )`,
      ],
    },
    {
      version: 2,
      name: 'stock push rate shared by replicas',
      statements: [
        // When each shop's recent stock updates were sent (database clock), whichever replica sent them.
        `CREATE TABLE stock_push_rate (
          platform text NOT NULL,
          shop_id text NOT NULL,
          sent_at timestamptz[] NOT NULL DEFAULT '{}',
          PRIMARY KEY (platform, shop_id)
        )`,
      ],
    },
    {
      version: 3,
      name: 'stock push backs off a failing SKU',
      statements: [
        // When a push the shop refused (a SKU it does not list, its API down) may be tried again;
        // null: at once. Without it the oldest failing rows took the shop's whole allowance every
        // round and real changes never got a turn.
        `ALTER TABLE stock_push ADD COLUMN next_attempt_at timestamptz`,
      ],
    },
    {
      version: 4,
      name: 'quarantine entries keep their shop',
      statements: [
        // Who may see an entry (its raw rows hold the buyer's name, phone and address): a
        // shop-limited user sees only its shops' entries. Older entries stay null (all-shop users only).
        `ALTER TABLE quarantine ADD COLUMN shop_id text`,
      ],
    },
  ];
}

export async function migrateChannelGateway(pool: Pool): Promise<void> {
  await runMigrations(pgTransactions(pool), 'channel-gateway', channelGatewayMigrations());
}

type Row = Record<string, unknown>;

const toQuarantine = (r: Row): QuarantineEntry => ({
  id: String(r.id),
  runId: (r.run_id as string | null) ?? null,
  channel: r.channel as Channel,
  channelOrderId: (r.channel_order_id as string | null) ?? null,
  profileId: r.profile_id as string,
  profileVersion: r.profile_version as number,
  orderTable: r.order_table as Table,
  itemsTable: (r.items_table as Table | null) ?? null,
  reasons: r.reasons as RejectReason[],
  shopId: (r.shop_id as string | null) ?? null,
  status: r.status as 'open' | 'resolved',
  createdAt: (r.created_at as Date).toISOString(),
  resolvedAt: r.resolved_at ? (r.resolved_at as Date).toISOString() : null,
});

export class PgChannelStore implements ChannelStore {
  constructor(private readonly pool: Pool) {}

  async findOrder(channel: Channel, channelOrderId: string): Promise<ChannelOrderRecord | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM channel_orders WHERE channel = $1 AND channel_order_id = $2', [channel, channelOrderId]);
    const r = rows[0];
    if (!r) return null;
    return {
      channel: r.channel as Channel,
      channelOrderId: r.channel_order_id as string,
      orderId: r.order_id as string,
      appliedSteps: r.applied_steps as AppliedStep[],
      fingerprint: r.fingerprint as string,
      profileId: r.profile_id as string,
      profileVersion: r.profile_version as number,
      touchedByPerson: r.touched_by_person as boolean,
      lastRunId: (r.last_run_id as string | null) ?? null,
    };
  }

  async saveOrder(rec: ChannelOrderRecord, d: ChannelOrderDraft): Promise<void> {
    const { rawRows, ...draft } = d;
    await this.pool.query(
      `INSERT INTO channel_orders (channel, channel_order_id, order_id, shop_id, platform_status, applied_steps, fingerprint, profile_id, profile_version, pii, money, draft, raw_rows, touched_by_person, last_run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (channel, channel_order_id) DO UPDATE SET
         order_id = EXCLUDED.order_id, shop_id = EXCLUDED.shop_id, platform_status = EXCLUDED.platform_status,
         applied_steps = EXCLUDED.applied_steps, fingerprint = EXCLUDED.fingerprint, profile_id = EXCLUDED.profile_id,
         profile_version = EXCLUDED.profile_version, pii = EXCLUDED.pii, money = EXCLUDED.money, draft = EXCLUDED.draft,
         raw_rows = EXCLUDED.raw_rows, touched_by_person = channel_orders.touched_by_person OR EXCLUDED.touched_by_person,
         last_run_id = EXCLUDED.last_run_id, updated_at = now()`,
      [
        rec.channel,
        rec.channelOrderId,
        rec.orderId,
        d.shopId,
        d.platformStatus,
        rec.appliedSteps,
        rec.fingerprint,
        rec.profileId,
        rec.profileVersion,
        JSON.stringify(d.pii),
        JSON.stringify(d.money),
        JSON.stringify(draft),
        JSON.stringify(rawRows),
        rec.touchedByPerson,
        rec.lastRunId,
      ],
    );
  }

  async ordersMappedBelow(profileId: string, version: number): Promise<{ channel: Channel; channelOrderId: string; rowNumbers: number[]; rawRows: Record<string, string>[] }[]> {
    const { rows } = await this.pool.query<{ channel: Channel; channel_order_id: string; row_numbers: number[] | null; raw_rows: Record<string, string>[] }>(
      `SELECT channel, channel_order_id, draft->'rowNumbers' AS row_numbers, raw_rows FROM channel_orders WHERE profile_id = $1 AND profile_version < $2 ORDER BY created_at`,
      [profileId, version],
    );
    return rows.map((r) => ({ channel: r.channel, channelOrderId: r.channel_order_id, rowNumbers: r.row_numbers ?? [], rawRows: r.raw_rows }));
  }

  async findUnfinishedRun(k: RunKey): Promise<string | null> {
    const { rows } = await this.pool.query<{ run_id: string }>(
      `SELECT run_id FROM import_runs WHERE status = 'running' AND channel = $1 AND profile_id = $2 AND profile_version = $3 AND file_sha256 = $4
         AND items_sha256 IS NOT DISTINCT FROM $5 ORDER BY started_at DESC LIMIT 1`,
      [k.channel, k.profileId, k.profileVersion, k.fileSha256, k.itemsSha256],
    );
    return rows[0]?.run_id ?? null;
  }

  async startRun(runId: string, k: RunKey, fileName: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO import_runs (run_id, channel, profile_id, profile_version, file_name, file_sha256, items_sha256, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'running')`,
      [runId, k.channel, k.profileId, k.profileVersion, fileName, k.fileSha256, k.itemsSha256],
    );
  }

  async finishRun(runId: string, report: ImportReport): Promise<void> {
    await this.pool.query(`UPDATE import_runs SET status = 'finished', report = $2, finished_at = now() WHERE run_id = $1`, [runId, JSON.stringify(report)]);
  }

  async getRun(runId: string): Promise<{ status: string; report: ImportReport | null } | null> {
    const { rows } = await this.pool.query<{ status: string; report: ImportReport | null }>('SELECT status, report FROM import_runs WHERE run_id = $1', [runId]);
    return rows[0] ?? null;
  }

  async quarantine(e: Omit<QuarantineEntry, 'id' | 'status' | 'createdAt' | 'resolvedAt'>): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO quarantine (run_id, channel, channel_order_id, profile_id, profile_version, order_table, items_table, reasons, shop_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (channel, channel_order_id) WHERE status = 'open' DO UPDATE SET
         run_id = EXCLUDED.run_id, profile_id = EXCLUDED.profile_id, profile_version = EXCLUDED.profile_version,
         order_table = EXCLUDED.order_table, items_table = EXCLUDED.items_table, reasons = EXCLUDED.reasons, shop_id = EXCLUDED.shop_id
       RETURNING id`,
      [e.runId, e.channel, e.channelOrderId, e.profileId, e.profileVersion, JSON.stringify(e.orderTable), e.itemsTable ? JSON.stringify(e.itemsTable) : null, JSON.stringify(e.reasons), e.shopId],
    );
    return String(rows[0].id);
  }

  async listQuarantine(channel?: Channel, shops?: readonly string[]): Promise<QuarantineEntry[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM quarantine WHERE status = 'open' AND ($1::text IS NULL OR channel = $1) AND ($2::text[] IS NULL OR shop_id = ANY($2)) ORDER BY id`,
      [channel ?? null, shops ? [...shops] : null],
    );
    return rows.map(toQuarantine);
  }

  async getQuarantine(id: string): Promise<QuarantineEntry | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const { rows } = await this.pool.query<Row>('SELECT * FROM quarantine WHERE id = $1', [id]);
    return rows[0] ? toQuarantine(rows[0]) : null;
  }

  async updateQuarantine(id: string, orderTable: Table, itemsTable: Table | null, reasons: RejectReason[]): Promise<void> {
    await this.pool.query('UPDATE quarantine SET order_table = $2, items_table = $3, reasons = $4 WHERE id = $1', [
      id,
      JSON.stringify(orderTable),
      itemsTable ? JSON.stringify(itemsTable) : null,
      JSON.stringify(reasons),
    ]);
  }

  async resolveQuarantine(id: string): Promise<void> {
    await this.pool.query(`UPDATE quarantine SET status = 'resolved', resolved_at = now() WHERE id = $1`, [id]);
  }

  async resolveQuarantineOf(channel: Channel, channelOrderId: string): Promise<void> {
    await this.pool.query(`UPDATE quarantine SET status = 'resolved', resolved_at = now() WHERE status = 'open' AND channel = $1 AND channel_order_id = $2`, [channel, channelOrderId]);
  }

  async checkpoint(platform: string, shopId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ checkpoint: Date }>('SELECT checkpoint FROM connector_checkpoints WHERE platform = $1 AND shop_id = $2', [platform, shopId]);
    return rows[0] ? rows[0].checkpoint.toISOString() : null;
  }

  async saveCheckpoint(platform: string, shopId: string, windowEnd: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO connector_checkpoints (platform, shop_id, checkpoint) VALUES ($1, $2, $3)
       ON CONFLICT (platform, shop_id) DO UPDATE SET checkpoint = GREATEST(connector_checkpoints.checkpoint, EXCLUDED.checkpoint), updated_at = now()`,
      [platform, shopId, windowEnd],
    );
  }

  async checkpoints(): Promise<{ platform: string; shopId: string; checkpoint: string; updatedAt: string }[]> {
    const { rows } = await this.pool.query<{ platform: string; shop_id: string; checkpoint: Date; updated_at: Date }>('SELECT * FROM connector_checkpoints ORDER BY platform, shop_id');
    return rows.map((r) => ({ platform: r.platform, shopId: r.shop_id, checkpoint: r.checkpoint.toISOString(), updatedAt: r.updated_at.toISOString() }));
  }

  async ingestStats(): Promise<IngestStats[]> {
    const { rows } = await this.pool.query<{ channel: string; ingested: string; touched: string; quarantined: string }>(`
      WITH o AS (SELECT channel, count(*) AS ingested, count(*) FILTER (WHERE touched_by_person) AS touched FROM channel_orders GROUP BY channel),
           q AS (SELECT channel, count(*) AS quarantined FROM quarantine WHERE status = 'open' GROUP BY channel)
      SELECT coalesce(o.channel, q.channel) AS channel, coalesce(o.ingested, 0) AS ingested, coalesce(o.touched, 0) AS touched, coalesce(q.quarantined, 0) AS quarantined
      FROM o FULL JOIN q ON o.channel = q.channel ORDER BY 1`);
    return rows.map((r) => {
      const ingested = Number(r.ingested);
      const touched = Number(r.touched);
      const quarantined = Number(r.quarantined);
      const seen = ingested + quarantined;
      return { channel: r.channel, ingested, touchedByPerson: touched, quarantined, autoIngestRate: seen === 0 ? 1 : (ingested - touched) / seen };
    });
  }
}
