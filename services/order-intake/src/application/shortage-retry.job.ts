import type { Actor } from '@flowline/contracts';
import { isDomainError } from '@flowline/domain';
import { planShortageRetry, shortageCandidate, skusToCheck, waitsFor, type ShortageCandidate, type SkuStockNow, type WaitReason } from '../domain/policies/shortage-retry.policy';
import type { ChangeOrderHandler } from './change-order.handler';
import type { LoadedOrder, OrderStore } from './order-store.port';

/** Inventory's stock of some SKUs now (its public API); a SKU inventory does not know is absent. */
export interface StockAvailability {
  stockOf(skus: readonly string[]): Promise<Map<string, SkuStockNow>>;
}

export interface ShortageRetryOutcome {
  /** Orders whose exception was resolved: the process manager asked inventory to reserve them again. */
  retried: string[];
  /** Orders left waiting, with why (planShortageRetry). */
  waiting: { orderId: string; reason: WaitReason }[];
  /** Orders that moved on while the retry was decided (another person or replica acted first). */
  skipped: string[];
  /** How many waiting orders were looked at. */
  candidates: number;
}

export interface ShortageRetryRun {
  /** Only orders short of this SKU. */
  sku?: string;
  /**
   * A person asking (the console's button after a receipt): the orders the stock covers are tried
   * at once, without the timer's waits (short stock unchanged since the refusal, back-off).
   */
  person?: Actor;
}

/** Inventory's stock could not be read: nothing was retried. */
export class StockUnavailable extends Error {}

const TIMER: Actor = { kind: 'service', id: 'order-intake.shortage-retry', role: 'system' };

/**
 * Orders waiting for stock (缺货) tried again when stock has come in (到货重新预占): the read table's
 * waiting orders, first placed first (at most `maxCandidates` a run; the timer goes on from where
 * its last run stopped, round the list), each checked on its stream
 * (shortageCandidate; a row whose stream says it no longer waits is cleared); inventory's stock of
 * their SKUs, read once per SKU; the plan (planShortageRetry); then ResolveException on each
 * chosen order at the revision it was checked at, which makes the process manager ask inventory to
 * reserve the order again in the same commit. Inventory still decides: an order it refuses again
 * goes back to waiting with a new report. The command id is derived from the order and its
 * shortage report, so timer replicas and a person pressing the button at once resolve an order once.
 */
export class ShortageRetryJob {
  constructor(
    private readonly store: OrderStore,
    private readonly changes: ChangeOrderHandler,
    private readonly stock: StockAvailability,
    /** Waiting orders looked at per run, at most. */
    private readonly maxCandidates = 500,
    private readonly pageSize = 100,
    private readonly log?: (message: string) => void,
  ) {}

  /** Runs on this replica one at a time (the timer's and a person's would spend the same stock twice). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Where the timer's next run starts when the last one stopped at `maxCandidates` (it goes round the list). */
  private resumeAfter: { placedAt: string; orderId: string } | undefined;
  private timerRuns = 0;

  /** Settles when the runs started so far (the timer's and people's) have ended: what a shutdown waits for. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  runOnce(now: string, run: ShortageRetryRun = {}): Promise<ShortageRetryOutcome> {
    const next = this.queue.then(() => this.runExclusive(now, run));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runExclusive(now: string, run: ShortageRetryRun): Promise<ShortageRetryOutcome> {
    const byTimer = run.sku === undefined && run.person === undefined;
    // The timer lists again, once an hour (and at its first run), what replicas of an earlier
    // release left unlisted during a rolling update (the migration's backfill, idempotent).
    if (byTimer && this.timerRuns++ % 60 === 0) await this.store.relistWaiting?.();
    const loaded = new Map<string, LoadedOrder>();
    const stale: { orderId: string; revision: number }[] = [];
    const candidates: ShortageCandidate[] = [];
    let after: { placedAt: string; orderId: string } | undefined = byTimer ? this.resumeAfter : undefined;
    let seen = 0;
    let reachedEnd = false;
    while (seen < this.maxCandidates) {
      const page = await this.store.waitingForStock({ ...(run.sku !== undefined ? { sku: run.sku } : {}), limit: Math.min(this.pageSize, this.maxCandidates - seen), ...(after ? { after } : {}) });
      if (page.length === 0) {
        reachedEnd = true;
        break;
      }
      seen += page.length;
      after = { placedAt: page[page.length - 1]!.placedAt, orderId: page[page.length - 1]!.orderId };
      for (const row of page) {
        // A row read again (a page boundary on a time finer than a millisecond) is counted once.
        if (loaded.has(row.orderId)) continue;
        const order = await this.store.load(row.orderId);
        const candidate = shortageCandidate(order.state);
        if (!candidate) {
          // Listed but not waiting (backfilled from the streams, or written by a replica of an
          // earlier release): cleared unless the order moved on meanwhile.
          stale.push({ orderId: row.orderId, revision: row.revision });
          continue;
        }
        if (run.sku !== undefined && !waitsFor(candidate).includes(run.sku)) continue;
        loaded.set(candidate.orderId, order);
        candidates.push(candidate);
      }
      if (page.length < this.pageSize) {
        reachedEnd = true;
        break;
      }
    }
    if (byTimer) this.resumeAfter = reachedEnd ? undefined : after;
    for (const row of stale) await this.store.clearShortSkus(row.orderId, row.revision);
    const outcome: ShortageRetryOutcome = { retried: [], waiting: [], skipped: [], candidates: candidates.length };
    if (candidates.length === 0) return outcome;
    let stock: Map<string, SkuStockNow>;
    try {
      stock = await this.stock.stockOf(skusToCheck(candidates));
    } catch (error) {
      throw new StockUnavailable(`inventory's stock could not be read: ${(error as Error).message}`);
    }
    const plan = planShortageRetry(candidates, stock, { now, byPerson: run.person !== undefined });
    outcome.waiting = plan.waiting;
    const byId = new Map(candidates.map((c) => [c.orderId, c]));
    for (const orderId of plan.retry) {
      const c = byId.get(orderId)!;
      try {
        const result = await this.changes.execute(
          {
            type: 'ResolveException',
            data: { orderId, reason: `到货重新预占：${skuList(c.shortSkus)} 已有库存 (stock came in; reserving again)` },
            metadata: { commandId: `shortage-retry:${orderId}:${c.reportedAt}`, correlationId: orderId, causationId: null, now, actor: run.person ?? TIMER },
          },
          { loaded: loaded.get(orderId)!, retryOnConflict: false },
        );
        (result.replayed ? outcome.skipped : outcome.retried).push(orderId);
      } catch (error) {
        // Moved on meanwhile (resolved, held, cancelled, changed): nothing to do; the next run sees it as it is.
        if (!isDomainError(error)) throw error;
        this.log?.(`shortage retry of ${orderId} refused by the order: ${error.code} ${error.message}`);
        outcome.skipped.push(orderId);
      }
    }
    return outcome;
  }
}

/** The short SKUs for the resolve's reason (at most 500 characters): the first five, then how many more. */
function skuList(skus: readonly string[]): string {
  const shown = skus.slice(0, 5).map((sku) => sku.slice(0, 64));
  return skus.length > shown.length ? `${shown.join('、')} 等 ${skus.length} 个 SKU` : shown.join('、');
}
