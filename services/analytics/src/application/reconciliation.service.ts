import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';
import { loadExcelJs } from '@flowline/imports';
import { stringify } from 'csv-stringify/sync';
import type { Pool } from 'pg';
import { PLATFORM_CHANNELS, reconcile, type ReconciliationPolicy, type ReconciliationReport, type SettlementEntry, type SettlementPlatform, type SoldOrder } from '../domain/reconciliation';
import { ANALYTICS_SCHEMA, IMPORT_SCHEMA, quoteSchema, table } from '../infra/analytics-schema';
import { parseSettlementFile } from '../infra/settlement-files';

export interface ImportResult {
  fileId: string;
  platform: SettlementPlatform;
  fileName: string;
  encoding: string;
  entries: number;
  skippedRows: number;
  /** False when the same file (same bytes) was imported before: nothing was added. */
  imported: boolean;
}

export interface DailyReconciliation extends ReconciliationReport {
  /** Local day (seller zone) the report's orders were placed on. */
  day: string;
  timeZone: string;
}

const imp = (name: string) => `${quoteSchema(IMPORT_SCHEMA)}."${name}"`;

/** Settlement imports and the daily reconciliation report (JSON, CSV, XLSX). */
export class ReconciliationService {
  constructor(private readonly pool: Pool, private readonly timeZone: string, private readonly policy: ReconciliationPolicy, private readonly schema: string = ANALYTICS_SCHEMA) {}

  /** Imports one settlement file; the same bytes imported again add nothing (the file's sha256 is its id). */
  async importFile(platform: SettlementPlatform, fileName: string, bytes: Buffer, now: string): Promise<ImportResult> {
    const parsed = parseSettlementFile(platform, bytes, fileName);
    const fileId = createHash('sha256').update(bytes).digest('hex');
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query(
        `INSERT INTO ${imp('settlement_file')} ("file_id", "platform", "file_name", "encoding", "entries", "imported_at") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [fileId, platform, fileName, parsed.encoding, parsed.entries.length, now],
      );
      const imported = (r.rowCount ?? 0) > 0;
      if (imported && parsed.entries.length) {
        const channel = PLATFORM_CHANNELS[platform][0];
        const e = parsed.entries;
        await client.query(
          `INSERT INTO ${imp('settlement_entry')} ("file_id", "row_number", "platform", "channel", "channel_order_id", "kind", "amount", "occurred_at", "item")
           SELECT $1, x.n * 10 + x.k, $2, $3, x.id, x.kind, x.amount, x.at, x.item
             FROM unnest($4::int[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[]) AS x(n, k, id, kind, amount, at, item)`,
          [
            fileId,
            platform,
            channel,
            e.map((x) => x.rowNumber),
            // A row may carry several entries (Douyin): number them within the row.
            e.map((x, i) => e.slice(0, i).filter((y) => y.rowNumber === x.rowNumber).length),
            e.map((x) => x.channelOrderId),
            e.map((x) => x.kind),
            e.map((x) => x.amount),
            e.map((x) => x.occurredAt),
            e.map((x) => x.item),
          ],
        );
      }
      await client.query('COMMIT');
      return { fileId, platform, fileName, encoding: parsed.encoding, entries: parsed.entries.length, skippedRows: parsed.skippedRows, imported };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /**
   * Paid orders of the platform's channels placed on one local day, matched with every imported entry of their channel order ids.
   * `shops`: the caller's shop scope (undefined = every shop); a scoped caller sees no entries of orders Flowline never saw (no shop to attribute them to).
   */
  async daily(platform: SettlementPlatform, day: string, shops?: string[]): Promise<DailyReconciliation> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new DomainError('INVALID_DATE', 'day must be YYYY-MM-DD', { field: 'day' }, 'invalid');
    const channels = PLATFORM_CHANNELS[platform];
    const orders = (
      await this.pool.query(
        `SELECT "order_id", "channel", "channel_order_id", "paid_at", "paid_amount"::bigint AS sold, "refunded_amount"::bigint AS refunded
           FROM ${table(this.schema, 'order_fact')}
          WHERE "channel" = ANY($1) AND "paid_at" IS NOT NULL AND ("placed_at" AT TIME ZONE $3)::date = $2::date AND ($4::text[] IS NULL OR "shop_id" = ANY($4::text[]))`,
        [channels, day, this.timeZone, shops ?? null],
      )
    ).rows.map((r): SoldOrder => ({ orderId: r.order_id, channel: r.channel, channelOrderId: r.channel_order_id, paidAt: (r.paid_at as Date).toISOString(), sold: Number(r.sold), refunded: Number(r.refunded) }));
    const toEntry = (r: Record<string, unknown>): SettlementEntry => ({
      platform: r.platform as SettlementPlatform,
      channelOrderId: r.channel_order_id as string,
      kind: r.kind as SettlementEntry['kind'],
      amount: Number(r.amount),
      occurredAt: r.occurred_at as string,
      item: r.item as string,
    });
    const entries = (
      await this.pool.query(`SELECT * FROM ${imp('settlement_entry')} WHERE "platform" = $1 AND "channel_order_id" = ANY($2) ORDER BY "file_id", "row_number"`, [
        platform,
        orders.map((o) => o.channelOrderId),
      ])
    ).rows.map(toEntry);
    // Entries of the day for orders we never saw (settlement times are the platform's local time).
    const unknown = shops
      ? []
      : (
          await this.pool.query(
            `SELECT e.* FROM ${imp('settlement_entry')} e
              WHERE e."platform" = $1 AND left(e."occurred_at", 10) = $2
                AND NOT EXISTS (SELECT 1 FROM ${table(this.schema, 'order_fact')} o WHERE o."channel" = ANY($3) AND o."channel_order_id" = e."channel_order_id")
              ORDER BY e."file_id", e."row_number"`,
            [platform, day, channels],
          )
        ).rows.map(toEntry);
    return { day, timeZone: this.timeZone, ...reconcile(platform, orders, entries, unknown, this.policy) };
  }

  /** The KPI "orders reconciled" per day over a range of days (at most 92), and in total. */
  async kpi(platform: SettlementPlatform, fromDay: string, toDay: string, shops?: string[]): Promise<{ platform: SettlementPlatform; days: { day: string; ordersTotal: number; ordersReconciled: number; reconciledRate: number; discrepancies: number }[]; ordersTotal: number; ordersReconciled: number; reconciledRate: number }> {
    const start = Date.parse(`${fromDay}T00:00:00Z`);
    const end = Date.parse(`${toDay}T00:00:00Z`);
    const n = Math.round((end - start) / 86_400_000);
    if (!(n >= 1 && n <= 92)) throw new DomainError('INVALID_RANGE', 'from must be before to, at most 92 days apart', { fields: ['from', 'to'] }, 'invalid');
    const days = [];
    for (let i = 0; i < n; i++) {
      const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
      const r = await this.daily(platform, day, shops);
      days.push({ day, ordersTotal: r.ordersTotal, ordersReconciled: r.ordersReconciled, reconciledRate: r.reconciledRate, discrepancies: r.discrepancies.length });
    }
    const ordersTotal = days.reduce((s, d) => s + d.ordersTotal, 0);
    const ordersReconciled = days.reduce((s, d) => s + d.ordersReconciled, 0);
    return { platform, days, ordersTotal, ordersReconciled, reconciledRate: ordersTotal ? ordersReconciled / ordersTotal : 1 };
  }

  static csv(r: DailyReconciliation): string {
    const rows = [
      ['day', 'platform', 'order_id', 'channel_order_id', 'sold_fen', 'settled_fen', 'refunded_fen', 'refund_settled_fen', 'fees_fen', 'expected_fee_fen', 'status', 'issues'],
      ...r.orders.map((o) => [
        r.day,
        r.platform,
        o.orderId,
        o.channelOrderId,
        o.sold,
        o.settled,
        o.refunded,
        o.refundSettled,
        o.fees,
        o.expectedFee,
        o.reconciled ? 'reconciled' : 'discrepancy',
        r.discrepancies
          .filter((d) => d.orderId === o.orderId)
          .map((d) => d.code)
          .join(' '),
      ]),
      ...r.discrepancies.filter((d) => d.orderId === null).map((d) => [r.day, r.platform, '', d.channelOrderId, 0, d.actual, 0, 0, 0, 0, 'discrepancy', d.code]),
    ];
    // A BOM so that Excel opens the UTF-8 file with its Chinese text intact.
    // Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first: an id a platform
    // file carried, say) is written with a leading apostrophe, the OWASP CSV-injection guard.
    const safe = rows.map((row) => row.map((cell) => (typeof cell === 'string' && /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell)));
    return `\uFEFF${stringify(safe, { record_delimiter: '\r\n' })}`;
  }

  static async xlsx(r: DailyReconciliation): Promise<Buffer> {
    // exceljs on first export only (loadExcelJs): it would cost every analytics process ~8 MiB of heap.
    const wb = new (loadExcelJs().Workbook)();
    const summary = wb.addWorksheet('summary');
    summary.addRows([
      ['day', r.day],
      ['platform', r.platform],
      ['orders', r.ordersTotal],
      ['orders reconciled', r.ordersReconciled],
      ['reconciled rate', r.reconciledRate],
      ['discrepancies', r.discrepancies.length],
    ]);
    const orders = wb.addWorksheet('orders');
    orders.addRow(['order_id', 'channel_order_id', 'sold_fen', 'settled_fen', 'refunded_fen', 'refund_settled_fen', 'fees_fen', 'expected_fee_fen', 'reconciled']);
    for (const o of r.orders) orders.addRow([o.orderId, o.channelOrderId, o.sold, o.settled, o.refunded, o.refundSettled, o.fees, o.expectedFee, o.reconciled]);
    const issues = wb.addWorksheet('discrepancies');
    issues.addRow(['code', 'order_id', 'channel_order_id', 'expected_fen', 'actual_fen', 'difference_fen']);
    for (const d of r.discrepancies) issues.addRow([d.code, d.orderId ?? '', d.channelOrderId, d.expected, d.actual, d.difference]);
    return Buffer.from(await wb.xlsx.writeBuffer());
  }
}
