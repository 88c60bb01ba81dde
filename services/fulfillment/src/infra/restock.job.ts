import { type ClientCredentialsTokenSource, serviceTokenSourceFromEnv } from '@flowline/auth';
import type { SqlClient } from '@flowline/eventstore';
import type { Pool } from 'pg';
import type { FulfillmentEvent } from '../domain/order-fulfillment.decider';

/**
 * Resellable returned units go back to stock through inventory's receipt API (the same receipt a
 * delivery from a supplier makes), keyed by the RMA: `restocks` rows are written with
 * ReturnReceived, and this job sends each once (Idempotency-Key restock:<rma>:<sku>:<warehouse>,
 * so a resend after a crash is not counted twice). Damaged units are written off: no receipt.
 */
export async function recordRestocks(client: SqlClient, orderId: string, events: { event: FulfillmentEvent }[]): Promise<void> {
  for (const { event } of events) {
    if (event.type !== 'ReturnReceived') continue;
    const bySku = new Map<string, number>();
    for (const l of event.data.lines) if (l.condition === 'resellable') bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.quantity);
    for (const [sku, quantity] of bySku) {
      await client.query('INSERT INTO restocks (rma_id, sku, warehouse_id, quantity, order_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        event.data.rmaId,
        sku,
        event.data.warehouseId,
        quantity,
        orderId,
      ]);
    }
  }
}

export class RestockJob {
  private running = false;

  constructor(
    private readonly pool: Pool,
    private readonly inventoryUrl: string,
    private readonly log: (m: string) => void,
    /** fulfillment's client-credentials token for inventory (issue #16). */
    private readonly tokens: ClientCredentialsTokenSource | undefined = serviceTokenSourceFromEnv('fulfillment'),
  ) {}

  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const due = await this.pool.query<{ rma_id: string; sku: string; warehouse_id: string; quantity: number }>(
        "SELECT rma_id, sku, warehouse_id, quantity FROM restocks WHERE status = 'pending' ORDER BY rma_id, sku LIMIT 100",
      );
      let sent = 0;
      for (const r of due.rows) {
        try {
          const res = await fetch(`${this.inventoryUrl}/api/stock/receipts`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `restock:${r.rma_id}:${r.sku}:${r.warehouse_id}`, ...(this.tokens ? await this.tokens.headers() : {}) },
            body: JSON.stringify({ sku: r.sku, warehouseId: r.warehouse_id, quantity: r.quantity, reference: r.rma_id }),
            signal: AbortSignal.timeout(10_000),
          });
          if (!res.ok) throw new Error(`inventory answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
          await this.pool.query("UPDATE restocks SET status = 'done', attempts = attempts + 1, done_at = now(), last_error = NULL WHERE rma_id = $1 AND sku = $2 AND warehouse_id = $3", [r.rma_id, r.sku, r.warehouse_id]);
          sent++;
        } catch (e) {
          await this.pool.query('UPDATE restocks SET attempts = attempts + 1, last_error = $4 WHERE rma_id = $1 AND sku = $2 AND warehouse_id = $3', [r.rma_id, r.sku, r.warehouse_id, (e as Error).message]);
          this.log(`restock of ${r.rma_id} ${r.sku} failed: ${(e as Error).message}`);
        }
      }
      return sent;
    } finally {
      this.running = false;
    }
  }
}
