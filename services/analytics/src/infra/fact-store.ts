import type { EventEnvelope } from '@flowline/contracts';
import { queryPrepared, type ItemResult, type SqlQueryable } from '@flowline/messaging';
import { factChanges, type FactChange } from '../projections/analytics-event';
import { ANALYTICS_SWAP_LOCK, table } from './analytics-schema';

/** A message to apply: its envelope and where it came from. */
export interface PositionedEnvelope {
  envelope: EventEnvelope;
  topic: string;
  partition: number;
  offset: string;
}

/** Allocation rows that replace an order's allocations (OrderStockReserved, or an OrderChanged that re-reserved). */
type AllocationRows = { lineId: string; sku: string; warehouseId: string; quantity: number }[];

/**
 * Writes the facts of a chunk of events into one analytics schema, each event once:
 * `applied_event` dedupes by event id inside the caller's transaction (whatever consumer group
 * applies it: a rebuild's rows and the live consumer's redeliveries after a swap meet there), and
 * each partition's checkpoint moves with it.
 *
 * A chunk costs a fixed number of statements, not some per event (issue #10): ONE statement takes
 * the swap lock, moves the checkpoints and claims the event ids (its RETURNING says which events are
 * new); the fact changes of the new events are laid out in memory in "levels" (an order's k-th change
 * of the chunk goes to level k), so within a level every order has at most one change and the rows of
 * different orders are disjoint; each level is written with ONE prepared statement of data-modifying
 * CTEs (unnest of arrays, one CTE per kind of change). Stock levels are absolute, so only the last per
 * SKU and warehouse is written, with the first level. A chunk of placed-and-paid orders is thus
 * BEGIN, claim, one write per level, COMMIT. The rows are the same as applying the events one by one
 * (test/fact-store-batch.int-spec.ts).
 */
export class FactStore {
  constructor(readonly schema: string, private readonly options: { swapLock: boolean } = { swapLock: true }) {}

  /** Applies `items` in order inside `tx`; says per item whether it was new (`done`) or seen before (`duplicate`). */
  async applyBatch(tx: SqlQueryable, items: PositionedEnvelope[]): Promise<ItemResult[]> {
    if (items.length === 0) return [];
    const last = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const item of items) {
      const k = `${item.topic}#${item.partition}`;
      const off = BigInt(item.offset);
      if ((last.get(k)?.offset ?? -1n) < off) last.set(k, { topic: item.topic, partition: item.partition, offset: off });
    }
    const cps = [...last.values()];
    const claimed = await queryPrepared(tx, this.claimSql, [
      items.map((i) => i.envelope.eventId),
      cps.map((c) => c.topic),
      cps.map((c) => c.partition),
      cps.map((c) => c.offset.toString()),
      ...(this.options.swapLock ? [ANALYTICS_SWAP_LOCK] : []),
    ]);
    const fresh = new Set<string>(claimed.rows.map((r: { event_id: string }) => r.event_id));
    const results: ItemResult[] = [];
    const levels: FactChange[][] = [];
    const levelOf = new Map<string, number>();
    const stockLevels = new Map<string, Extract<FactChange, { kind: 'stock_level' }>>();
    for (const item of items) {
      if (!fresh.delete(item.envelope.eventId)) {
        results.push({ kind: 'duplicate' });
        continue;
      }
      for (const change of factChanges(item.envelope)) {
        if (change.kind === 'stock_level') {
          const key = `${change.sku}\u0000${change.warehouseId}`;
          // The newest revision of the chunk (a tie: the later one, as before revisions were kept).
          if ((stockLevels.get(key)?.version ?? -1) > change.version) continue;
          stockLevels.delete(key);
          stockLevels.set(key, change);
          continue;
        }
        const orderId = change.kind === 'order_placed' ? change.order.orderId : change.orderId;
        const level = (levelOf.get(orderId) ?? -1) + 1;
        levelOf.set(orderId, level);
        (levels[level] ??= []).push(change);
      }
      results.push({ kind: 'done' });
    }
    // Stock levels ride with the first level's statement (their table is written by no other part of it).
    const stock = [...stockLevels.values()];
    if (levels.length === 0 && stock.length > 0) await this.writeLevel(tx, [], stock);
    for (let i = 0; i < levels.length; i++) await this.writeLevel(tx, levels[i] ?? [], i === 0 ? stock : []);
    return results;
  }

  /**
   * One statement: the swap lock (live writes hold it shared; a rebuild's swap takes it exclusively,
   * ADR 0007) taken before anything is written (every write reads the lock's row), the partitions'
   * checkpoints moved, and the event ids claimed; the ids it RETURNs are the new events.
   */
  private get claimSql(): string {
    const s = this.schema;
    const lock = this.options.swapLock;
    return `WITH ${lock ? 'l AS (SELECT pg_advisory_xact_lock_shared($5)),' : ''}
     cp AS (INSERT INTO ${table(s, 'checkpoint')} ("topic", "partition", "offset") SELECT c.* FROM unnest($2::text[], $3::int[], $4::bigint[]) AS c${lock ? ', l' : ''}
       ON CONFLICT ("topic", "partition") DO UPDATE SET "offset" = GREATEST(${table(s, 'checkpoint')}."offset", EXCLUDED."offset"))
     INSERT INTO ${table(s, 'applied_event')} ("event_id") SELECT DISTINCT unnest($1::text[])${lock ? ' FROM l' : ''} ON CONFLICT DO NOTHING RETURNING "event_id"`;
  }

  /**
   * One level (at most one change per order) and the chunk's stock levels, written by ONE statement of
   * data-modifying CTEs. They all see the statement's snapshot and none sees another's rows, which is
   * safe because within a level every order_fact row is touched by at most one of them (disjoint
   * orders), and the two delete-then-insert pairs (an OrderChanged's lines, a re-reservation's
   * allocations) are ordered explicitly: the insert reads the delete's row count first, so the delete
   * has run to completion before any row is inserted (rows deleted by the transaction are no
   * conflict for the insert's unique check or ON CONFLICT).
   */
  private async writeLevel(tx: SqlQueryable, changes: FactChange[], stock: Extract<FactChange, { kind: 'stock_level' }>[]): Promise<void> {
    const of = <K extends FactChange['kind']>(kind: K) => changes.filter((c): c is Extract<FactChange, { kind: K }> => c.kind === kind);
    const placed = of('order_placed');
    const changed = of('order_changed');
    const paid = of('order_paid');
    const cancelled = of('order_cancelled');
    const refunded = of('order_refunded');
    const allocated = of('stock_allocated');
    const packed = of('shipment_packed');
    type Line = { orderId: string; lineId: string; sku: string; quantity: number; unitPrice: number; lineDiscount: number };
    const lineParams = (lines: Line[]) => [
      lines.map((l) => l.orderId),
      lines.map((l) => l.lineId),
      lines.map((l) => l.sku),
      lines.map((l) => l.quantity),
      lines.map((l) => l.unitPrice),
      lines.map((l) => l.lineDiscount),
    ];
    const o = placed.map((c) => c.order);
    // The order's latest reservation is where its units ship from: it replaces an earlier one.
    const replaced: { orderId: string; rows: AllocationRows }[] = [
      ...changed.flatMap((c) => (c.allocations ? [{ orderId: c.orderId, rows: c.allocations }] : [])),
      ...allocated.map((c) => ({ orderId: c.orderId, rows: c.allocations })),
    ];
    // Rows of one reservation for the same line and warehouse add up (as one upsert each would).
    const summed = new Map<string, { orderId: string; lineId: string; sku: string; warehouseId: string; quantity: number }>();
    for (const r of replaced) {
      for (const a of r.rows) {
        const key = `${r.orderId}\u0000${a.lineId}\u0000${a.warehouseId}`;
        const prev = summed.get(key);
        if (prev) prev.quantity += a.quantity;
        else summed.set(key, { orderId: r.orderId, lineId: a.lineId, sku: a.sku, warehouseId: a.warehouseId, quantity: a.quantity });
      }
    }
    const allocations = [...summed.values()];
    await queryPrepared(tx, this.writeSql, [
      // $1-$12 placed orders, $13-$18 their lines
      o.map((x) => x.orderId),
      o.map((x) => x.channel),
      o.map((x) => x.channelOrderId),
      o.map((x) => x.shopId),
      o.map((x) => x.customerKey),
      o.map((x) => x.province),
      o.map((x) => x.placedAt),
      o.map((x) => x.currency),
      o.map((x) => x.itemsTotal),
      o.map((x) => x.shippingFee),
      o.map((x) => x.orderDiscount),
      o.map((x) => x.grandTotal),
      ...lineParams(placed.flatMap((c) => c.lines.map((l) => ({ orderId: c.order.orderId, ...l })))),
      // $19-$23 changed totals, $24-$29 the lines that replace theirs
      changed.map((c) => c.orderId),
      changed.map((c) => c.totals.itemsTotal),
      changed.map((c) => c.totals.shippingFee),
      changed.map((c) => c.totals.orderDiscount),
      changed.map((c) => c.totals.grandTotal),
      ...lineParams(changed.flatMap((c) => c.lines.map((l) => ({ orderId: c.orderId, ...l })))),
      // $30-$32 paid, $33-$34 cancelled, $35-$39 refunded
      paid.map((c) => c.orderId),
      paid.map((c) => c.amount),
      paid.map((c) => c.paidAt),
      cancelled.map((c) => c.orderId),
      cancelled.map((c) => c.at),
      refunded.map((c) => c.eventId),
      refunded.map((c) => c.orderId),
      refunded.map((c) => c.amount),
      refunded.map((c) => c.at),
      refunded.map((c) => c.afterShipment),
      // $40 orders whose allocations are replaced, $41-$45 the new allocations
      replaced.map((r) => r.orderId),
      allocations.map((r) => r.orderId),
      allocations.map((r) => r.lineId),
      allocations.map((r) => r.sku),
      allocations.map((r) => r.warehouseId),
      allocations.map((r) => r.quantity),
      // $46-$49 shipments, $50-$55 stock levels
      packed.map((c) => c.orderId),
      packed.map((c) => c.shipmentId),
      packed.map((c) => c.warehouseId),
      packed.map((c) => c.at),
      stock.map((r) => r.sku),
      stock.map((r) => r.warehouseId),
      stock.map((r) => r.onHand),
      stock.map((r) => r.reserved),
      stock.map((r) => r.available),
      stock.map((r) => r.version),
    ]);
  }

  private get writeSql(): string {
    const s = this.schema;
    const fact = table(s, 'order_fact');
    const line = table(s, 'order_line');
    const allocation = table(s, 'allocation');
    return `WITH
     placed AS (INSERT INTO ${fact} ("order_id", "channel", "channel_order_id", "shop_id", "customer_key", "province", "placed_at", "currency", "items_total", "shipping_fee", "order_discount", "grand_total")
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])
       ON CONFLICT ("order_id") DO NOTHING),
     placed_lines AS (INSERT INTO ${line} ("order_id", "line_id", "sku", "quantity", "unit_price", "line_discount")
       SELECT * FROM unnest($13::text[], $14::text[], $15::text[], $16::int[], $17::bigint[], $18::bigint[]) ON CONFLICT DO NOTHING),
     changed AS (UPDATE ${fact} f SET "items_total" = v.items_total, "shipping_fee" = v.shipping_fee, "order_discount" = v.order_discount, "grand_total" = v.grand_total
       FROM unnest($19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[]) AS v(order_id, items_total, shipping_fee, order_discount, grand_total) WHERE f."order_id" = v.order_id),
     changed_gone AS (DELETE FROM ${line} WHERE "order_id" = ANY($19::text[]) RETURNING 1),
     changed_lines AS (INSERT INTO ${line} ("order_id", "line_id", "sku", "quantity", "unit_price", "line_discount")
       SELECT v.* FROM unnest($24::text[], $25::text[], $26::text[], $27::int[], $28::bigint[], $29::bigint[]) AS v, (SELECT count(*) FROM changed_gone) AS after_delete),
     paid AS (UPDATE ${fact} f SET "paid_amount" = f."paid_amount" + v.amount, "paid_at" = coalesce(f."paid_at", v.paid_at)
       FROM unnest($30::text[], $31::bigint[], $32::timestamptz[]) AS v(order_id, amount, paid_at) WHERE f."order_id" = v.order_id),
     cancelled AS (UPDATE ${fact} f SET "cancelled_at" = v.at FROM unnest($33::text[], $34::timestamptz[]) AS v(order_id, at) WHERE f."order_id" = v.order_id),
     refund AS (INSERT INTO ${table(s, 'refund')} ("event_id", "order_id", "amount", "refunded_at", "after_shipment")
       SELECT * FROM unnest($35::text[], $36::text[], $37::bigint[], $38::timestamptz[], $39::boolean[]) ON CONFLICT DO NOTHING),
     refunded AS (UPDATE ${fact} f SET "refunded_amount" = f."refunded_amount" + v.amount FROM unnest($36::text[], $37::bigint[]) AS v(order_id, amount) WHERE f."order_id" = v.order_id),
     allocation_gone AS (DELETE FROM ${allocation} WHERE "order_id" = ANY($40::text[]) RETURNING 1),
     allocated AS (INSERT INTO ${allocation} ("order_id", "line_id", "sku", "warehouse_id", "quantity")
       SELECT v.* FROM unnest($41::text[], $42::text[], $43::text[], $44::text[], $45::int[]) AS v, (SELECT count(*) FROM allocation_gone) AS after_delete
       ON CONFLICT ("order_id", "line_id", "warehouse_id") DO UPDATE SET "quantity" = ${allocation}."quantity" + EXCLUDED."quantity"),
     packed AS (INSERT INTO ${table(s, 'shipment')} ("order_id", "shipment_id", "warehouse_id", "packed_at")
       SELECT * FROM unnest($46::text[], $47::text[], $48::text[], $49::timestamptz[]) ON CONFLICT DO NOTHING),
     stock AS (INSERT INTO ${table(s, 'stock_level')} ("sku", "warehouse_id", "on_hand", "reserved", "available", "version")
       SELECT * FROM unnest($50::text[], $51::text[], $52::int[], $53::int[], $54::int[], $55::bigint[])
       ON CONFLICT ("sku", "warehouse_id") DO UPDATE SET "on_hand" = EXCLUDED."on_hand", "reserved" = EXCLUDED."reserved", "available" = EXCLUDED."available", "version" = EXCLUDED."version"
       WHERE ${table(s, 'stock_level')}."version" <= EXCLUDED."version")
     SELECT 1`;
  }
}
