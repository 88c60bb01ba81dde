import type { Pool, PoolClient } from 'pg';
import { DomainError } from '@flowline/domain';
import { BatchPrepared, FORCE_GENERIC_PLANS_SQL, sqlLiteral } from '@flowline/eventstore';
import { DEFAULT_INBOX_TABLE, ensureInbox, namedStatement, quoteTable } from '@flowline/messaging';
import type { LineAllocation, MissingStock } from '../domain/order-reservation.decider';
import type { ChannelRule } from '../domain/policies/availability.policy';
import type { CommandDedupe } from '../application/inventory-commands';
import { migrateInventory } from './inventory-schema';

/** Rows of the inventory schema, as the unit of work sees them. */
export interface WarehouseRow {
  warehouseId: string;
  name: string;
  priority: number;
  active: boolean;
}

export interface SkuRow {
  sku: string;
  name: string;
  allowBackorder: boolean;
  safetyStock: number;
  lowStockThreshold: number;
  channelRules: ChannelRule[];
  availabilityVersion: number;
  totalAvailable: number;
  publishedAtp: Record<string, number>;
}

export interface StockRow {
  sku: string;
  warehouseId: string;
  onHand: number;
  reserved: number;
  version: number;
  updatedAt?: string;
  /** Short after a shipment after a release (StockWentNegative): reserved may exceed on_hand until covered. */
  stockException?: boolean;
}

export interface ReservationRow {
  orderId: string;
  reservationId: string | null;
  status: 'reserved' | 'refused' | 'released' | 'committed';
  channel: string | null;
  expiresAt: string | null;
  allocations: LineAllocation[];
  missing: MissingStock[];
  releaseReason: string | null;
  version: number;
  /** The order's shop as ReserveStock named it (null before it did, or for a change's own reservation). */
  shopId?: string | null;
  createdAt?: string;
  updatedAt?: string;
}

export interface LineRow {
  orderId: string;
  warehouseId: string;
  lineId: string;
  sku: string;
  reservationId: string;
  quantity: number;
  expiresAt: string | null;
}

export interface WriteSet {
  stockUpdates: { row: StockRow; expectedVersion: number; allowBackorder: boolean }[];
  stockInserts: { row: StockRow; allowBackorder: boolean }[];
  skuUpdates: { sku: string; availabilityVersion: number; totalAvailable: number; publishedAtp: Record<string, number> }[];
  reservationUpdates: { row: ReservationRow; expectedVersion: number }[];
  reservationInserts: ReservationRow[];
  lineInserts: LineRow[];
  lineDeletes: { orderId: string; warehouseId: string; lineId: string }[];
  httpReplies: { key: string; requestHash: string; response: unknown }[];
}

/** The optimistic guard on a snapshot row did not hold: someone wrote it without the lock. Retry. */
export class StaleSnapshot extends Error {
  constructor(what: string) {
    super(`stale snapshot: ${what} changed under the lock; retrying`);
    this.name = 'StaleSnapshot';
  }
}

/** Advisory lock namespaces (two-int4 keys: never collide with single-bigint locks elsewhere). */
const LOCK_ORDER = 0x1f10_0001;
const LOCK_SKU = 0x1f10_0002;

/** begin()'s locks: the orders' (`$1`), then the SKUs' (`$2`), each set in hash order. */
const BATCH_LOCKS = new BatchPrepared(
  'text[], text[]',
  `SELECT pg_advisory_xact_lock(ns, h) FROM (
     SELECT DISTINCT ns, h FROM (
       SELECT ${LOCK_ORDER} AS ns, hashtext(o) AS h FROM unnest($1) AS o
       UNION ALL SELECT ${LOCK_SKU}, hashtext(s) FROM unnest($2) AS s) AS keys
     ORDER BY ns, h) AS ordered`,
);

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));

function toSku(r: any): SkuRow {
  return {
    sku: r.sku,
    name: r.name,
    allowBackorder: r.allow_backorder,
    safetyStock: r.safety_stock,
    lowStockThreshold: r.low_stock_threshold,
    channelRules: r.channel_rules,
    availabilityVersion: Number(r.availability_version),
    totalAvailable: r.total_available,
    publishedAtp: r.published_atp,
  };
}

function toStock(r: any): StockRow {
  return { sku: r.sku, warehouseId: r.warehouse_id, onHand: r.on_hand, reserved: r.reserved, version: Number(r.version), updatedAt: iso(r.updated_at) ?? undefined, stockException: r.stock_exception === true };
}

function toReservation(r: any): ReservationRow {
  return {
    orderId: r.order_id,
    reservationId: r.reservation_id,
    status: r.status,
    channel: r.channel,
    expiresAt: iso(r.expires_at),
    allocations: r.allocations,
    missing: r.missing,
    releaseReason: r.release_reason,
    version: Number(r.version),
    shopId: r.shop_id ?? null,
    createdAt: iso(r.created_at) ?? undefined,
    updatedAt: iso(r.updated_at) ?? undefined,
  };
}

function toLine(r: any): LineRow {
  return {
    orderId: r.order_id,
    warehouseId: r.warehouse_id,
    lineId: r.line_id,
    sku: r.sku,
    reservationId: r.reservation_id,
    quantity: r.quantity,
    expiresAt: iso(r.expires_at),
  };
}

/** SQL of the inventory schema. Every multi-row write is one statement over unnest'ed arrays. */
export class PgInventoryStore {
  /** Quoted name of the messaging inbox table (shared with @flowline/messaging consumers). */
  readonly inboxTable: string;

  constructor(
    readonly pool: Pool,
    private readonly rawInboxTable: string = DEFAULT_INBOX_TABLE,
  ) {
    this.inboxTable = quoteTable(rawInboxTable);
  }

  async migrate(): Promise<void> {
    await migrateInventory(this.pool);
    await ensureInbox({ execute: async (sql) => void (await this.pool.query(sql)) }, this.rawInboxTable);
  }

  // ---- reads without locks -------------------------------------------------------------------

  async warehouses(db: Pool | PoolClient = this.pool): Promise<WarehouseRow[]> {
    const r = await db.query(`SELECT warehouse_id, name, priority, active FROM inventory.warehouse ORDER BY priority, warehouse_id`);
    return r.rows.map((w) => ({ warehouseId: w.warehouse_id, name: w.name, priority: w.priority, active: w.active }));
  }

  async reservations(orderIds: string[], db: Pool | PoolClient = this.pool): Promise<ReservationRow[]> {
    if (orderIds.length === 0) return [];
    const r = await db.query(`SELECT * FROM inventory.reservation WHERE order_id = ANY($1::text[])`, [orderIds]);
    return r.rows.map(toReservation);
  }

  async sku(sku: string): Promise<SkuRow | undefined> {
    const r = await this.pool.query(`SELECT * FROM inventory.sku WHERE sku = $1`, [sku]);
    return r.rows[0] ? toSku(r.rows[0]) : undefined;
  }

  async skus(limit = 1000, offset = 0): Promise<SkuRow[]> {
    const r = await this.pool.query(`SELECT * FROM inventory.sku ORDER BY sku LIMIT $1 OFFSET $2`, [limit, offset]);
    return r.rows.map(toSku);
  }

  /** Every SKU with a low-stock threshold (the low-stock list checks these, however large the catalogue). */
  async skusWithLowStockThreshold(): Promise<SkuRow[]> {
    const r = await this.pool.query(`SELECT * FROM inventory.sku WHERE low_stock_threshold > 0 ORDER BY sku`);
    return r.rows.map(toSku);
  }

  async stockOf(sku: string): Promise<StockRow[]> {
    const r = await this.pool.query(`SELECT * FROM inventory.stock WHERE sku = $1 ORDER BY warehouse_id`, [sku]);
    return r.rows.map(toStock);
  }

  async linesOf(filter: { orderId?: string; sku?: string; warehouseId?: string }): Promise<LineRow[]> {
    const r = await this.pool.query(
      `SELECT * FROM inventory.reservation_line
        WHERE ($1::text IS NULL OR order_id = $1) AND ($2::text IS NULL OR sku = $2) AND ($3::text IS NULL OR warehouse_id = $3)
        ORDER BY order_id, warehouse_id, line_id`,
      [filter.orderId ?? null, filter.sku ?? null, filter.warehouseId ?? null],
    );
    return r.rows.map(toLine);
  }

  /** Orders whose reserve-on-placement hold is due at `now`, earliest first. */
  async dueReservations(now: string, limit: number): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT order_id FROM inventory.reservation WHERE status = 'reserved' AND expires_at IS NOT NULL AND expires_at <= $1
        ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return r.rows.map((x) => x.order_id);
  }

  /** Every ledger with its reserved counter and the sum of its open lines (for verify). */
  async ledgerTotals(filter: { sku?: string; warehouseId?: string }): Promise<
    { sku: string; warehouseId: string; onHand: number; reserved: number; version: number; openSum: number; allowBackorder: boolean; stockException: boolean }[]
  > {
    const r = await this.pool.query(
      `SELECT s.sku, s.warehouse_id, s.on_hand, s.reserved, s.version, s.allow_backorder, s.stock_exception, COALESCE(l.open_sum, 0)::int AS open_sum
         FROM inventory.stock s
         LEFT JOIN (SELECT sku, warehouse_id, sum(quantity) AS open_sum FROM inventory.reservation_line GROUP BY sku, warehouse_id) l
           ON l.sku = s.sku AND l.warehouse_id = s.warehouse_id
        WHERE ($1::text IS NULL OR s.sku = $1) AND ($2::text IS NULL OR s.warehouse_id = $2)
        ORDER BY s.sku, s.warehouse_id`,
      [filter.sku ?? null, filter.warehouseId ?? null],
    );
    return r.rows.map((x) => ({
      sku: x.sku,
      warehouseId: x.warehouse_id,
      onHand: x.on_hand,
      reserved: x.reserved,
      version: Number(x.version),
      openSum: x.open_sum,
      allowBackorder: x.allow_backorder,
      stockException: x.stock_exception === true,
    }));
  }

  // ---- configuration -------------------------------------------------------------------------

  /** Creates or updates a SKU's rules; keeps the stock rows' backorder flag (used by the oversell CHECK) in step. */
  async upsertSku(s: { sku: string; name: string; allowBackorder: boolean; safetyStock: number; lowStockThreshold: number; channelRules: ChannelRule[] }): Promise<{ created: boolean }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Same lock as the unit of work: no batch writes the stock rows' backorder flag meanwhile.
      await client.query(`SELECT pg_advisory_xact_lock(${LOCK_SKU}, hashtext($1))`, [s.sku]);
      if (!s.allowBackorder) {
        // Backorders already taken stay until stock arrives or they are released: turning the
        // rule off now would leave rows the oversell CHECK refuses (it was a 500).
        const over = await client.query<{ warehouse_id: string; on_hand: number; reserved: number }>(
          `SELECT warehouse_id, on_hand, reserved FROM inventory.stock WHERE sku = $1 AND reserved > on_hand AND NOT stock_exception ORDER BY warehouse_id`,
          [s.sku],
        );
        if (over.rows.length > 0) {
          const warehouses = over.rows.map((w) => ({ warehouseId: w.warehouse_id, onHand: w.on_hand, reserved: w.reserved, backordered: w.reserved - w.on_hand }));
          const units = warehouses.reduce((n, w) => n + w.backordered, 0);
          throw new DomainError(
            'SKU_BACKORDERED',
            `${s.sku}: allowBackorder cannot be turned off while ${units} unit(s) are reserved beyond stock (${warehouses.map((w) => `${w.warehouseId}: ${w.reserved} reserved, ${w.onHand} on hand`).join('; ')}); receive stock or release those reservations first`,
            { sku: s.sku, backordered: units, warehouses },
            'conflict',
          );
        }
      }
      const r = await client.query(
        `INSERT INTO inventory.sku (sku, name, allow_backorder, safety_stock, low_stock_threshold, channel_rules)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, allow_backorder = EXCLUDED.allow_backorder,
           safety_stock = EXCLUDED.safety_stock, low_stock_threshold = EXCLUDED.low_stock_threshold,
           channel_rules = EXCLUDED.channel_rules, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [s.sku, s.name, s.allowBackorder, s.safetyStock, s.lowStockThreshold, JSON.stringify(s.channelRules)],
      );
      await client.query(`UPDATE inventory.stock SET allow_backorder = $2 WHERE sku = $1`, [s.sku, s.allowBackorder]);
      await client.query('COMMIT');
      return { created: r.rows[0].created };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async upsertWarehouse(w: WarehouseRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO inventory.warehouse (warehouse_id, name, priority, active) VALUES ($1, $2, $3, $4)
       ON CONFLICT (warehouse_id) DO UPDATE SET name = EXCLUDED.name, priority = EXCLUDED.priority, active = EXCLUDED.active`,
      [w.warehouseId, w.name, w.priority, w.active],
    );
  }

  // ---- inside the unit of work's transaction -------------------------------------------------

  /**
   * Serialises writers per order and per SKU with transaction-scoped advisory locks, orders first,
   * each set in hash order (no deadlocks), sent with the transaction's BEGIN. Not `SELECT ... FOR
   * UPDATE`: a row lock that follows an update chain gives the waiting transaction its id before it
   * holds the lock, so a later holder
   * could commit a stream head with a newer id first and the event store's log-order guard
   * (OutOfOrderAppend) would refuse our append (measured: ~2 of 3 transactions retried at 16
   * concurrent writers). An advisory lock takes no transaction id: ours is assigned at our first
   * write, after the lock, so ids follow the lock order (ADR 0005).
   *
   * The rows are read by the NEXT statement (`load`), never by this one: under READ COMMITTED a
   * statement reads with the snapshot taken when it started, before it waited for the locks, so it
   * would miss what the previous holder committed meanwhile.
   */
  async begin(client: PoolClient, orderIds: string[], skus: string[]): Promise<void> {
    // FORCE_GENERIC_PLANS_SQL goes with the BEGIN: the unit of work's hot statements (load, write and the event store's append,
    // each prepared; one text per combination of the parts a batch needs) run on their generic plans,
    // planned once per connection; the rest (the occasional DELETE of closed lines) on a generic plan
    // built for the call. Left to choose, PostgreSQL re-planned them for every batch (their `= ANY($n)` and
    // `unnest($n)` of short arrays make the custom plan look cheaper), which cost more backend CPU
    // than running them (issue #10). SET LOCAL: the setting ends with the transaction.
    if (orderIds.length === 0 && skus.length === 0) {
      await client.query(`BEGIN; ${FORCE_GENERIC_PLANS_SQL}`);
      return;
    }
    // BEGIN and the lock in one simple-query round trip (values as escaped literals), as when it was
    // sent on its own after the BEGIN: under READ COMMITTED each statement after it (the load) takes
    // its own snapshot once the locks are granted; what runs before it (SET LOCAL, and on a
    // connection's first batch its PREPARE) reads no rows. It is prepared once per connection (BatchPrepared) and
    // runs on its generic plan too: as literal text it was parsed and planned for every batch
    // (issue #10, pg_stat_statements: 0.18 ms of planning per batch).
    // sqlLiteral refuses a NUL, which would break the simple query's protocol message (08P01, read
    // as a connection fault and retried for ever), as the content error it is (retried, then dead-lettered).
    const list = (xs: string[]) => `ARRAY[${xs.map((x) => sqlLiteral(x, 'an order id or SKU')).join(', ')}]::text[]`;
    const locks = BATCH_LOCKS.statements(client, [list(orderIds), list(skus)]);
    await client.query(`BEGIN; ${FORCE_GENERIC_PLANS_SQL}; ${locks.sql.join('; ')}`);
    locks.confirm();
  }

  /**
   * After `begin`, in ONE statement: claims the Kafka commands in the inbox (its first write, so the
   * transaction id comes after the locks) and reads the reservation, SKU and stock rows, the open
   * lines asked for and the stored HTTP replies, each set as a json aggregate. Timestamps are
   * rendered as `Date#toISOString` renders them (UTC, milliseconds), as the row reads did.
   */
  async load(
    client: PoolClient,
    q: {
      orderIds: string[];
      skus: string[];
      claims: Extract<CommandDedupe, { kind: 'inbox' }>[];
      httpKeys: string[];
      lineOrders: string[];
      lineLedgers: { sku: string; warehouseId: string }[];
    },
  ): Promise<{ fresh: Set<string>; reservations: ReservationRow[]; skus: SkuRow[]; stock: StockRow[]; lines: LineRow[]; replies: Map<string, { response: unknown; requestHash: string | null }> }> {
    const params: unknown[] = [];
    const p = (v: unknown, type: string) => {
      params.push(v);
      return `$${params.length}::${type}`;
    };
    const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    const agg = (expr: string, from: string) => `(SELECT coalesce(json_agg(${expr}), '[]') FROM ${from})`;
    const ctes: string[] = [];
    const cols: string[] = [];
    const c = q.claims;
    if (c.length > 0) {
      ctes.push(
        `claimed AS (INSERT INTO ${this.inboxTable} (consumer_group, event_id, event_type, topic, partition, "offset")
           SELECT * FROM unnest(${p(c.map((x) => x.group), 'text[]')}, ${p(c.map((x) => x.eventId), 'text[]')}, ${p(c.map((x) => x.eventType), 'text[]')},
                                ${p(c.map((x) => x.topic), 'text[]')}, ${p(c.map((x) => x.partition), 'int[]')}, ${p(c.map((x) => x.offset), 'bigint[]')})
           ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id)`,
      );
      cols.push(`${agg('event_id', 'claimed')} AS fresh`);
    }
    if (q.orderIds.length > 0) {
      cols.push(
        `${agg(`to_jsonb(r) || jsonb_build_object('expires_at', ${ts('r.expires_at')}, 'created_at', ${ts('r.created_at')}, 'updated_at', ${ts('r.updated_at')})`, `inventory.reservation r WHERE r.order_id = ANY(${p(q.orderIds, 'text[]')})`)} AS reservations`,
      );
    }
    if (q.skus.length > 0) {
      const skus = p(q.skus, 'text[]');
      cols.push(`${agg('k', `inventory.sku k WHERE k.sku = ANY(${skus})`)} AS skus`);
      cols.push(`${agg(`to_jsonb(s) || jsonb_build_object('updated_at', ${ts('s.updated_at')})`, `inventory.stock s WHERE s.sku = ANY(${skus})`)} AS stock`);
    }
    if (q.lineOrders.length > 0 || q.lineLedgers.length > 0) {
      const where = `l.order_id = ANY(${p(q.lineOrders, 'text[]')})
        OR (l.sku, l.warehouse_id) IN (SELECT * FROM unnest(${p(q.lineLedgers.map((x) => x.sku), 'text[]')}, ${p(q.lineLedgers.map((x) => x.warehouseId), 'text[]')}))`;
      cols.push(`${agg(`to_jsonb(l) || jsonb_build_object('expires_at', ${ts('l.expires_at')})`, `inventory.reservation_line l WHERE ${where}`)} AS lines`);
    }
    if (q.httpKeys.length > 0) {
      cols.push(`${agg(`json_build_object('key', h.key, 'response', h.response, 'request_hash', h.request_hash)`, `inventory.http_idempotency h WHERE h.key = ANY(${p(q.httpKeys, 'text[]')})`)} AS replies`);
    }
    if (cols.length === 0) return { fresh: new Set(), reservations: [], skus: [], stock: [], lines: [], replies: new Map() };
    const r = (await client.query(namedStatement(`${ctes.length > 0 ? `WITH ${ctes.join(', ')} ` : ''}SELECT ${cols.join(', ')}`, params))).rows[0];
    const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
    return {
      fresh: new Set(list(r.fresh) as string[]),
      reservations: list(r.reservations).map(toReservation),
      skus: list(r.skus).map(toSku),
      stock: list(r.stock).map(toStock),
      lines: list(r.lines).map(toLine),
      replies: new Map(list(r.replies).map((x) => [x.key, { response: x.response, requestHash: x.request_hash }])),
    };
  }

  /**
   * Writes the batch's rows in ONE statement (one CTE per kind of change; the version-guarded
   * updates report how many rows they matched), after a separate DELETE of closed open lines when
   * there are any (a partial release writes the rest of a line again under the same key).
   */
  async write(client: PoolClient, w: WriteSet): Promise<void> {
    if (w.lineDeletes.length > 0) {
      const d = w.lineDeletes;
      await client.query(
        `DELETE FROM inventory.reservation_line l USING unnest($1::text[], $2::text[], $3::text[]) AS v(order_id, warehouse_id, line_id)
          WHERE l.order_id = v.order_id AND l.warehouse_id = v.warehouse_id AND l.line_id = v.line_id`,
        [d.map((x) => x.orderId), d.map((x) => x.warehouseId), d.map((x) => x.lineId)],
      );
    }
    const params: unknown[] = [];
    const p = (v: unknown, type: string) => {
      params.push(v);
      return `$${params.length}::${type}`;
    };
    const ctes: string[] = [];
    const counts: string[] = [];
    if (w.stockUpdates.length > 0) {
      const u = w.stockUpdates;
      ctes.push(
        `stock_updated AS (UPDATE inventory.stock s SET on_hand = v.on_hand, reserved = v.reserved, version = v.version, allow_backorder = v.backorder,
                stock_exception = v.exception, updated_at = now()
           FROM unnest(${p(u.map((x) => x.row.sku), 'text[]')}, ${p(u.map((x) => x.row.warehouseId), 'text[]')}, ${p(u.map((x) => x.row.onHand), 'int[]')},
                       ${p(u.map((x) => x.row.reserved), 'int[]')}, ${p(u.map((x) => x.row.version), 'bigint[]')}, ${p(u.map((x) => x.expectedVersion), 'bigint[]')},
                       ${p(u.map((x) => x.allowBackorder), 'bool[]')}, ${p(u.map((x) => x.row.stockException === true), 'bool[]')})
             AS v(sku, warehouse_id, on_hand, reserved, version, expected, backorder, exception)
          WHERE s.sku = v.sku AND s.warehouse_id = v.warehouse_id AND s.version = v.expected RETURNING 1)`,
      );
      counts.push(`(SELECT count(*)::int FROM stock_updated) AS stock_updated`);
    }
    if (w.stockInserts.length > 0) {
      const i = w.stockInserts;
      ctes.push(
        `stock_inserted AS (INSERT INTO inventory.stock (sku, warehouse_id, on_hand, reserved, version, allow_backorder, stock_exception)
         SELECT * FROM unnest(${p(i.map((x) => x.row.sku), 'text[]')}, ${p(i.map((x) => x.row.warehouseId), 'text[]')}, ${p(i.map((x) => x.row.onHand), 'int[]')},
                              ${p(i.map((x) => x.row.reserved), 'int[]')}, ${p(i.map((x) => x.row.version), 'bigint[]')}, ${p(i.map((x) => x.allowBackorder), 'bool[]')},
                              ${p(i.map((x) => x.row.stockException === true), 'bool[]')}))`,
      );
    }
    if (w.skuUpdates.length > 0) {
      const k = w.skuUpdates;
      ctes.push(
        `sku_updated AS (UPDATE inventory.sku k SET availability_version = v.version, total_available = v.total, published_atp = v.atp
           FROM unnest(${p(k.map((x) => x.sku), 'text[]')}, ${p(k.map((x) => x.availabilityVersion), 'bigint[]')}, ${p(k.map((x) => x.totalAvailable), 'int[]')},
                       ${p(k.map((x) => JSON.stringify(x.publishedAtp)), 'jsonb[]')}) AS v(sku, version, total, atp)
          WHERE k.sku = v.sku)`,
      );
    }
    if (w.lineInserts.length > 0) {
      const l = w.lineInserts;
      ctes.push(
        `lines_inserted AS (INSERT INTO inventory.reservation_line (order_id, warehouse_id, line_id, sku, reservation_id, quantity, expires_at)
         SELECT * FROM unnest(${p(l.map((x) => x.orderId), 'text[]')}, ${p(l.map((x) => x.warehouseId), 'text[]')}, ${p(l.map((x) => x.lineId), 'text[]')},
                              ${p(l.map((x) => x.sku), 'text[]')}, ${p(l.map((x) => x.reservationId), 'text[]')}, ${p(l.map((x) => x.quantity), 'int[]')},
                              ${p(l.map((x) => x.expiresAt), 'timestamptz[]')}))`,
      );
    }
    const resCols = (rows: ReservationRow[]) =>
      [
        p(rows.map((x) => x.orderId), 'text[]'),
        p(rows.map((x) => x.reservationId), 'text[]'),
        p(rows.map((x) => x.status), 'text[]'),
        p(rows.map((x) => x.channel), 'text[]'),
        p(rows.map((x) => x.expiresAt), 'timestamptz[]'),
        p(rows.map((x) => JSON.stringify(x.allocations)), 'jsonb[]'),
        p(rows.map((x) => JSON.stringify(x.missing)), 'jsonb[]'),
        p(rows.map((x) => x.releaseReason), 'text[]'),
        p(rows.map((x) => x.version), 'bigint[]'),
        p(rows.map((x) => x.shopId ?? null), 'text[]'),
      ].join(', ');
    if (w.reservationUpdates.length > 0) {
      const u = w.reservationUpdates;
      ctes.push(
        `reservations_updated AS (UPDATE inventory.reservation r SET reservation_id = v.reservation_id, status = v.status, channel = v.channel, expires_at = v.expires_at,
                allocations = v.allocations, missing = v.missing, release_reason = v.release_reason, version = v.version,
                shop_id = coalesce(v.shop_id, r.shop_id), updated_at = now()
           FROM unnest(${resCols(u.map((x) => x.row))}, ${p(u.map((x) => x.expectedVersion), 'bigint[]')})
             AS v(order_id, reservation_id, status, channel, expires_at, allocations, missing, release_reason, version, shop_id, expected)
          WHERE r.order_id = v.order_id AND r.version = v.expected RETURNING 1)`,
      );
      counts.push(`(SELECT count(*)::int FROM reservations_updated) AS reservations_updated`);
    }
    if (w.reservationInserts.length > 0) {
      ctes.push(
        `reservations_inserted AS (INSERT INTO inventory.reservation (order_id, reservation_id, status, channel, expires_at, allocations, missing, release_reason, version, shop_id)
         SELECT * FROM unnest(${resCols(w.reservationInserts)}))`,
      );
    }
    if (w.httpReplies.length > 0) {
      const h = w.httpReplies;
      ctes.push(
        `replies_inserted AS (INSERT INTO inventory.http_idempotency (key, status, response, request_hash)
         SELECT k, 200, r, x FROM unnest(${p(h.map((x) => x.key), 'text[]')}, ${p(h.map((x) => JSON.stringify(x.response)), 'jsonb[]')}, ${p(h.map((x) => x.requestHash), 'text[]')}) AS v(k, r, x))`,
      );
    }
    if (ctes.length === 0) return;
    // Data-modifying CTEs run to completion whether or not the outer query reads them.
    const r = await client.query(namedStatement(`WITH ${ctes.join(',\n')} SELECT ${counts.length > 0 ? counts.join(', ') : '1 AS done'}`, params));
    const row = r.rows[0];
    if (w.stockUpdates.length > 0 && row.stock_updated !== w.stockUpdates.length) throw new StaleSnapshot('a stock row');
    if (w.reservationUpdates.length > 0 && row.reservations_updated !== w.reservationUpdates.length) throw new StaleSnapshot('a reservation row');
  }
}
