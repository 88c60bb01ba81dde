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
 * A chunk costs a fixed number of statements, not some per event (issue #10): the fact changes of
 * the new events are laid out in memory in "levels" (an order's k-th change of the chunk goes to
 * level k), so within a level every order has at most one change and the rows of different orders
 * are disjoint; each level is written with one multi-row statement (unnest of arrays, prepared) per
 * kind of change. Stock levels are absolute, so only the last per SKU and warehouse is written.
 * The rows are the same as applying the events one by one (test/fact-store-batch.int-spec.ts).
 */
export class FactStore {
  constructor(readonly schema: string, private readonly options: { swapLock: boolean } = { swapLock: true }) {}

  /** Applies `items` in order inside `tx`; says per item whether it was new (`done`) or seen before (`duplicate`). */
  async applyBatch(tx: SqlQueryable, items: PositionedEnvelope[]): Promise<ItemResult[]> {
    if (items.length === 0) return [];
    // Live writes hold the swap lock shared; a rebuild's swap takes it exclusively (ADR 0007).
    if (this.options.swapLock) await queryPrepared(tx, 'SELECT pg_advisory_xact_lock_shared($1)', [ANALYTICS_SWAP_LOCK]);
    const s = this.schema;
    const claimed = await queryPrepared(tx, `INSERT INTO ${table(s, 'applied_event')} ("event_id") SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING "event_id"`, [
      items.map((i) => i.envelope.eventId),
    ]);
    const fresh = new Set<string>(claimed.rows.map((r: { event_id: string }) => r.event_id));
    const results: ItemResult[] = [];
    const last = new Map<string, { topic: string; partition: number; offset: bigint }>();
    const levels: FactChange[][] = [];
    const levelOf = new Map<string, number>();
    const stockLevels = new Map<string, Extract<FactChange, { kind: 'stock_level' }>>();
    for (const item of items) {
      const k = `${item.topic}#${item.partition}`;
      const off = BigInt(item.offset);
      if ((last.get(k)?.offset ?? -1n) < off) last.set(k, { topic: item.topic, partition: item.partition, offset: off });
      if (!fresh.delete(item.envelope.eventId)) {
        results.push({ kind: 'duplicate' });
        continue;
      }
      for (const change of factChanges(item.envelope)) {
        if (change.kind === 'stock_level') {
          const key = `${change.sku}\u0000${change.warehouseId}`;
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
    for (const level of levels) await this.writeLevel(tx, level);
    if (stockLevels.size > 0) {
      const rows = [...stockLevels.values()];
      await queryPrepared(
        tx,
        `INSERT INTO ${table(s, 'stock_level')} ("sku", "warehouse_id", "on_hand", "reserved", "available")
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[])
         ON CONFLICT ("sku", "warehouse_id") DO UPDATE SET "on_hand" = EXCLUDED."on_hand", "reserved" = EXCLUDED."reserved", "available" = EXCLUDED."available"`,
        [rows.map((r) => r.sku), rows.map((r) => r.warehouseId), rows.map((r) => r.onHand), rows.map((r) => r.reserved), rows.map((r) => r.available)],
      );
    }
    if (last.size > 0) {
      const cps = [...last.values()];
      await queryPrepared(
        tx,
        `INSERT INTO ${table(s, 'checkpoint')} ("topic", "partition", "offset") SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
         ON CONFLICT ("topic", "partition") DO UPDATE SET "offset" = GREATEST(${table(s, 'checkpoint')}."offset", EXCLUDED."offset")`,
        [cps.map((c) => c.topic), cps.map((c) => c.partition), cps.map((c) => c.offset.toString())],
      );
    }
    return results;
  }

  /** One level: at most one change per order, so the statements below touch disjoint rows and their order between kinds does not matter. */
  private async writeLevel(tx: SqlQueryable, changes: FactChange[]): Promise<void> {
    const s = this.schema;
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
    if (placed.length > 0) {
      const o = placed.map((c) => c.order);
      await queryPrepared(
        tx,
        `INSERT INTO ${table(s, 'order_fact')} ("order_id", "channel", "channel_order_id", "shop_id", "customer_key", "province", "placed_at", "currency", "items_total", "shipping_fee", "order_discount", "grand_total")
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])
         ON CONFLICT ("order_id") DO NOTHING`,
        [
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
        ],
      );
      const lines = placed.flatMap((c) => c.lines.map((l) => ({ orderId: c.order.orderId, ...l })));
      if (lines.length > 0) {
        await queryPrepared(
          tx,
          `INSERT INTO ${table(s, 'order_line')} ("order_id", "line_id", "sku", "quantity", "unit_price", "line_discount")
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[]) ON CONFLICT DO NOTHING`,
          lineParams(lines),
        );
      }
    }
    if (changed.length > 0) {
      await queryPrepared(
        tx,
        `UPDATE ${table(s, 'order_fact')} f SET "items_total" = v.items_total, "shipping_fee" = v.shipping_fee, "order_discount" = v.order_discount, "grand_total" = v.grand_total
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS v(order_id, items_total, shipping_fee, order_discount, grand_total) WHERE f."order_id" = v.order_id`,
        [
          changed.map((c) => c.orderId),
          changed.map((c) => c.totals.itemsTotal),
          changed.map((c) => c.totals.shippingFee),
          changed.map((c) => c.totals.orderDiscount),
          changed.map((c) => c.totals.grandTotal),
        ],
      );
      await queryPrepared(tx, `DELETE FROM ${table(s, 'order_line')} WHERE "order_id" = ANY($1::text[])`, [changed.map((c) => c.orderId)]);
      const lines = changed.flatMap((c) => c.lines.map((l) => ({ orderId: c.orderId, ...l })));
      if (lines.length > 0) {
        await queryPrepared(
          tx,
          `INSERT INTO ${table(s, 'order_line')} ("order_id", "line_id", "sku", "quantity", "unit_price", "line_discount")
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[])`,
          lineParams(lines),
        );
      }
    }
    if (paid.length > 0) {
      await queryPrepared(
        tx,
        `UPDATE ${table(s, 'order_fact')} f SET "paid_amount" = f."paid_amount" + v.amount, "paid_at" = coalesce(f."paid_at", v.paid_at)
         FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS v(order_id, amount, paid_at) WHERE f."order_id" = v.order_id`,
        [paid.map((c) => c.orderId), paid.map((c) => c.amount), paid.map((c) => c.paidAt)],
      );
    }
    if (cancelled.length > 0) {
      await queryPrepared(
        tx,
        `UPDATE ${table(s, 'order_fact')} f SET "cancelled_at" = v.at FROM unnest($1::text[], $2::timestamptz[]) AS v(order_id, at) WHERE f."order_id" = v.order_id`,
        [cancelled.map((c) => c.orderId), cancelled.map((c) => c.at)],
      );
    }
    if (refunded.length > 0) {
      await queryPrepared(
        tx,
        `INSERT INTO ${table(s, 'refund')} ("event_id", "order_id", "amount", "refunded_at", "after_shipment")
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::boolean[]) ON CONFLICT DO NOTHING`,
        [refunded.map((c) => c.eventId), refunded.map((c) => c.orderId), refunded.map((c) => c.amount), refunded.map((c) => c.at), refunded.map((c) => c.afterShipment)],
      );
      await queryPrepared(
        tx,
        `UPDATE ${table(s, 'order_fact')} f SET "refunded_amount" = f."refunded_amount" + v.amount FROM unnest($1::text[], $2::bigint[]) AS v(order_id, amount) WHERE f."order_id" = v.order_id`,
        [refunded.map((c) => c.orderId), refunded.map((c) => c.amount)],
      );
    }
    // The order's latest reservation is where its units ship from: it replaces an earlier one.
    const replaced: { orderId: string; rows: AllocationRows }[] = [
      ...changed.flatMap((c) => (c.allocations ? [{ orderId: c.orderId, rows: c.allocations }] : [])),
      ...allocated.map((c) => ({ orderId: c.orderId, rows: c.allocations })),
    ];
    if (replaced.length > 0) {
      await queryPrepared(tx, `DELETE FROM ${table(s, 'allocation')} WHERE "order_id" = ANY($1::text[])`, [replaced.map((r) => r.orderId)]);
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
      const rows = [...summed.values()];
      if (rows.length > 0) {
        await queryPrepared(
          tx,
          `INSERT INTO ${table(s, 'allocation')} ("order_id", "line_id", "sku", "warehouse_id", "quantity")
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])
           ON CONFLICT ("order_id", "line_id", "warehouse_id") DO UPDATE SET "quantity" = ${table(s, 'allocation')}."quantity" + EXCLUDED."quantity"`,
          [rows.map((r) => r.orderId), rows.map((r) => r.lineId), rows.map((r) => r.sku), rows.map((r) => r.warehouseId), rows.map((r) => r.quantity)],
        );
      }
    }
    if (packed.length > 0) {
      await queryPrepared(
        tx,
        `INSERT INTO ${table(s, 'shipment')} ("order_id", "shipment_id", "warehouse_id", "packed_at")
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING`,
        [packed.map((c) => c.orderId), packed.map((c) => c.shipmentId), packed.map((c) => c.warehouseId), packed.map((c) => c.at)],
      );
    }
  }
}
