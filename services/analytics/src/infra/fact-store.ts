import type { EventEnvelope } from '@flowline/contracts';
import type { ItemResult, SqlQueryable } from '@flowline/messaging';
import { factChanges, type FactChange } from '../projections/analytics-event';
import { ANALYTICS_SWAP_LOCK, table } from './analytics-schema';

/** A message to apply: its envelope and where it came from. */
export interface PositionedEnvelope {
  envelope: EventEnvelope;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Writes the facts of a chunk of events into one analytics schema, each event once:
 * `applied_event` dedupes by event id inside the caller's transaction (whatever consumer group
 * applies it: a rebuild's rows and the live consumer's redeliveries after a swap meet there), and
 * each partition's checkpoint moves with it.
 */
export class FactStore {
  constructor(readonly schema: string, private readonly options: { swapLock: boolean } = { swapLock: true }) {}

  /** Applies `items` in order inside `tx`; says per item whether it was new (`done`) or seen before (`duplicate`). */
  async applyBatch(tx: SqlQueryable, items: PositionedEnvelope[]): Promise<ItemResult[]> {
    if (items.length === 0) return [];
    // Live writes hold the swap lock shared; a rebuild's swap takes it exclusively (ADR 0007).
    if (this.options.swapLock) await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [ANALYTICS_SWAP_LOCK]);
    const s = this.schema;
    const claimed = await tx.query(`INSERT INTO ${table(s, 'applied_event')} ("event_id") SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING "event_id"`, [
      items.map((i) => i.envelope.eventId),
    ]);
    const fresh = new Set<string>(claimed.rows.map((r: { event_id: string }) => r.event_id));
    const results: ItemResult[] = [];
    const last = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const item of items) {
      const k = `${item.topic}#${item.partition}`;
      const off = BigInt(item.offset);
      if ((last.get(k)?.offset ?? -1n) < off) last.set(k, { topic: item.topic, partition: item.partition, offset: off });
      if (!fresh.delete(item.envelope.eventId)) {
        results.push({ kind: 'duplicate' });
        continue;
      }
      for (const change of factChanges(item.envelope)) await this.write(tx, change);
      results.push({ kind: 'done' });
    }
    for (const cp of last.values()) {
      await tx.query(
        `INSERT INTO ${table(s, 'checkpoint')} ("topic", "partition", "offset") VALUES ($1, $2, $3)
         ON CONFLICT ("topic", "partition") DO UPDATE SET "offset" = GREATEST(${table(s, 'checkpoint')}."offset", EXCLUDED."offset")`,
        [cp.topic, cp.partition, cp.offset.toString()],
      );
    }
    return results;
  }

  private async write(tx: SqlQueryable, c: FactChange): Promise<void> {
    const s = this.schema;
    switch (c.kind) {
      case 'order_placed': {
        const o = c.order;
        await tx.query(
          `INSERT INTO ${table(s, 'order_fact')} ("order_id", "channel", "channel_order_id", "shop_id", "customer_key", "province", "placed_at", "currency", "items_total", "shipping_fee", "order_discount", "grand_total")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT ("order_id") DO NOTHING`,
          [o.orderId, o.channel, o.channelOrderId, o.shopId, o.customerKey, o.province, o.placedAt, o.currency, o.itemsTotal, o.shippingFee, o.orderDiscount, o.grandTotal],
        );
        for (const l of c.lines) {
          await tx.query(
            `INSERT INTO ${table(s, 'order_line')} ("order_id", "line_id", "sku", "quantity", "unit_price", "line_discount") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
            [o.orderId, l.lineId, l.sku, l.quantity, l.unitPrice, l.lineDiscount],
          );
        }
        return;
      }
      case 'order_changed': {
        const t = c.totals;
        await tx.query(`UPDATE ${table(s, 'order_fact')} SET "items_total" = $2, "shipping_fee" = $3, "order_discount" = $4, "grand_total" = $5 WHERE "order_id" = $1`, [
          c.orderId,
          t.itemsTotal,
          t.shippingFee,
          t.orderDiscount,
          t.grandTotal,
        ]);
        await tx.query(`DELETE FROM ${table(s, 'order_line')} WHERE "order_id" = $1`, [c.orderId]);
        for (const l of c.lines) {
          await tx.query(`INSERT INTO ${table(s, 'order_line')} ("order_id", "line_id", "sku", "quantity", "unit_price", "line_discount") VALUES ($1, $2, $3, $4, $5, $6)`, [
            c.orderId,
            l.lineId,
            l.sku,
            l.quantity,
            l.unitPrice,
            l.lineDiscount,
          ]);
        }
        if (c.allocations) {
          await tx.query(`DELETE FROM ${table(s, 'allocation')} WHERE "order_id" = $1`, [c.orderId]);
          for (const a of c.allocations) {
            await tx.query(
              `INSERT INTO ${table(s, 'allocation')} ("order_id", "line_id", "sku", "warehouse_id", "quantity") VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT ("order_id", "line_id", "warehouse_id") DO UPDATE SET "quantity" = ${table(s, 'allocation')}."quantity" + EXCLUDED."quantity"`,
              [c.orderId, a.lineId, a.sku, a.warehouseId, a.quantity],
            );
          }
        }
        return;
      }
      case 'order_paid':
        await tx.query(`UPDATE ${table(s, 'order_fact')} SET "paid_amount" = "paid_amount" + $2, "paid_at" = coalesce("paid_at", $3) WHERE "order_id" = $1`, [c.orderId, c.amount, c.paidAt]);
        return;
      case 'order_cancelled':
        await tx.query(`UPDATE ${table(s, 'order_fact')} SET "cancelled_at" = $2 WHERE "order_id" = $1`, [c.orderId, c.at]);
        return;
      case 'order_refunded':
        await tx.query(`INSERT INTO ${table(s, 'refund')} ("event_id", "order_id", "amount", "refunded_at", "after_shipment") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [
          c.eventId,
          c.orderId,
          c.amount,
          c.at,
          c.afterShipment,
        ]);
        await tx.query(`UPDATE ${table(s, 'order_fact')} SET "refunded_amount" = "refunded_amount" + $2 WHERE "order_id" = $1`, [c.orderId, c.amount]);
        return;
      case 'stock_allocated':
        // The order's latest reservation is where its units ship from: it replaces an earlier one.
        await tx.query(`DELETE FROM ${table(s, 'allocation')} WHERE "order_id" = $1`, [c.orderId]);
        for (const a of c.allocations) {
          await tx.query(
            `INSERT INTO ${table(s, 'allocation')} ("order_id", "line_id", "sku", "warehouse_id", "quantity") VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT ("order_id", "line_id", "warehouse_id") DO UPDATE SET "quantity" = ${table(s, 'allocation')}."quantity" + EXCLUDED."quantity"`,
            [c.orderId, a.lineId, a.sku, a.warehouseId, a.quantity],
          );
        }
        return;
      case 'stock_level':
        await tx.query(
          `INSERT INTO ${table(s, 'stock_level')} ("sku", "warehouse_id", "on_hand", "reserved", "available") VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT ("sku", "warehouse_id") DO UPDATE SET "on_hand" = EXCLUDED."on_hand", "reserved" = EXCLUDED."reserved", "available" = EXCLUDED."available"`,
          [c.sku, c.warehouseId, c.onHand, c.reserved, c.available],
        );
        return;
      case 'shipment_packed':
        await tx.query(`INSERT INTO ${table(s, 'shipment')} ("order_id", "shipment_id", "warehouse_id", "packed_at") VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
          c.orderId,
          c.shipmentId,
          c.warehouseId,
          c.at,
        ]);
        return;
      default: {
        const never: never = c;
        throw new Error(`unhandled fact change ${JSON.stringify(never)}`);
      }
    }
  }
}
