import { isDomainError } from '@flowline/domain';
import type { ChangeOrderHandler } from '../application/change-order.handler';
import type { OrderStore } from '../application/order-store.port';
import { afterSalesCutoff, deliveredOrder, dueArchives } from '../domain/policies/after-sales-archive.policy';

export interface AfterSalesArchiveOptions {
  /** After-sales window in days (ORDER_AFTER_SALES_DAYS). */
  windowDays: number;
  /** How often to scan (ORDER_ARCHIVE_SCAN_INTERVAL_MS); 0 leaves the timer off (runOnce still works). */
  scanIntervalMs: number;
  /** The clock; tests move it forward instead of waiting for days. */
  clock?: () => Date;
  /** Rows read from the read table per page. */
  batchSize?: number;
  logger?: { warn(message: string, fields?: Record<string, unknown>): void };
}

/**
 * Archives delivered orders whose after-sales window has passed (the decision is the pure
 * `dueArchives`). The read table finds candidates, page by page, oldest first; each is re-checked
 * on its stream and archived at the revision it was checked at, so a refund request or hold
 * landing in between wins. The command id is derived from the order and the time it became
 * movable: several replicas archive an order once.
 */
export class AfterSalesArchiveRunner {
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<unknown> = Promise.resolve();
  private readonly clock: () => Date;
  private readonly batchSize: number;

  constructor(
    private readonly store: OrderStore,
    private readonly changes: ChangeOrderHandler,
    private readonly options: AfterSalesArchiveOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.batchSize = options.batchSize ?? 100;
  }

  /** One scan at the clock's current time. Returns the ids of the orders it archived. */
  async runOnce(): Promise<string[]> {
    const now = this.clock().toISOString();
    const cutoff = afterSalesCutoff(now, this.options.windowDays);
    const archived: string[] = [];
    let after: { movableSince: string; orderId: string } | undefined;
    for (;;) {
      const page = await this.store.deliveredSince(cutoff, this.batchSize, after);
      for (const row of page) {
        const loaded = await this.store.load(row.orderId);
        const order = deliveredOrder(loaded.state);
        if (!order || loaded.revision === 'no_stream') continue;
        for (const command of dueArchives([order], now, this.options.windowDays)) {
          if (command.type !== 'Archive') continue;
          try {
            await this.changes.execute(
              {
                ...command,
                metadata: {
                  commandId: `after-sales-archive:${order.orderId}:${order.movableSince}`,
                  correlationId: order.orderId,
                  causationId: null,
                  now,
                  actor: { kind: 'service', id: 'order-intake.after-sales-archiver', role: 'system' },
                },
              },
              { loaded, retryOnConflict: false },
            );
            archived.push(order.orderId);
          } catch (error) {
            // Moved on meanwhile (a refund request, a hold, another replica archived it): skip it.
            if (!isDomainError(error)) throw error;
          }
        }
      }
      if (page.length < this.batchSize) return archived;
      const last = page[page.length - 1];
      after = { movableSince: last.movableSince, orderId: last.orderId };
    }
  }

  /** Starts the periodic scan (no-op when the interval is 0). Scans never overlap. */
  start(): this {
    if (this.options.scanIntervalMs <= 0 || this.timer) return this;
    this.timer = setInterval(() => {
      this.scanning = this.scanning
        .then(() => this.runOnce())
        .catch((e: unknown) => this.options.logger?.warn('after-sales archive scan failed', { error: String(e) }));
    }, this.options.scanIntervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops the timer and waits for a scan in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.scanning;
  }
}
