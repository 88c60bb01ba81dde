import { fold } from '@flowline/domain';
import { InMemoryEventStore, type NewEvent, type SqlClient } from '@flowline/eventstore';
import { orderDecider } from '../domain/order.decider';
import { orderStreamId, type OrderEvent } from '../domain/order.events';
import { isExisting } from '../domain/order.state';
import { summaryOf } from '../application/order-summary';
import { ChannelOrderTaken, processStreamId, type ListOrdersFilter, type LoadedOrder, type OrderChange, type OrderStore, type OrderSummary } from '../application/order-store.port';

/**
 * OrderStore in memory (unit tests and local experiments): the in-memory event store plus maps
 * for the claims and the read table. Commits are serialised, which gives the same all-or-nothing
 * outcome as the PostgreSQL transaction.
 */
export class InMemoryOrderStore implements OrderStore {
  readonly events = new InMemoryEventStore();
  private readonly claims = new Map<string, string>();
  private readonly summaries = new Map<string, OrderSummary>();
  private queue: Promise<unknown> = Promise.resolve();

  async load(orderId: string): Promise<LoadedOrder> {
    const events = await this.events.readStream(orderStreamId(orderId));
    const state = fold(orderDecider, events.map((e) => ({ type: e.type, data: e.data }) as OrderEvent));
    return { state, revision: events.length === 0 ? 'no_stream' : events[events.length - 1].streamPosition, events };
  }

  commit(change: OrderChange, _tx?: SqlClient): Promise<{ revision: number }> {
    return this.serialised(async () => {
      const claim = change.claim;
      const claimKey = claim ? `${claim.channel}|${claim.channelOrderId}` : null;
      if (claim && claimKey && this.claims.has(claimKey)) throw new ChannelOrderTaken(claim.channel, claim.channelOrderId);
      const r = await this.events.appendToStream(orderStreamId(change.orderId), change.events, { expectedRevision: change.expectedRevision });
      if (claimKey) this.claims.set(claimKey, change.orderId);
      if (change.outbox?.length) await this.events.appendToStream(processStreamId(change.orderId), change.outbox, { expectedRevision: 'any' });
      if (isExisting(change.stateAfter)) {
        const last = change.events[change.events.length - 1];
        this.summaries.set(change.orderId, summaryOf(change.stateAfter, r.nextExpectedRevision, last.metadata.occurredAt));
      }
      return { revision: r.nextExpectedRevision };
    });
  }

  async appendOutbox(orderId: string, events: NewEvent[]): Promise<void> {
    if (events.length > 0) await this.events.appendToStream(processStreamId(orderId), events, { expectedRevision: 'any' });
  }

  async findByChannelOrder(channel: string, channelOrderId: string): Promise<string | null> {
    return this.claims.get(`${channel}|${channelOrderId}`) ?? null;
  }

  async claimChannelOrder(channel: string, channelOrderId: string, orderId: string, _tx: SqlClient): Promise<{ claimed: true } | { claimed: false; owner: string | null }> {
    const key = `${channel}|${channelOrderId}`;
    const owner = this.claims.get(key);
    if (owner !== undefined) return { claimed: false, owner };
    this.claims.set(key, orderId);
    return { claimed: true };
  }

  async list(f: ListOrdersFilter): Promise<OrderSummary[]> {
    return [...this.summaries.values()]
      .filter(
        (s) =>
          (!f.channel || s.channel === f.channel) &&
          (!f.stages || f.stages.includes(s.stage)) &&
          (!f.shopId || s.shopId === f.shopId) &&
          (!f.flag || (f.flag === 'on_hold' ? s.onHold : s.inException)) &&
          (!f.beforeOrderId || s.orderId < f.beforeOrderId),
      )
      .sort((a, b) => (a.orderId < b.orderId ? 1 : -1))
      .slice(0, f.limit);
  }

  async awaitingStockSince(before: string, limit: number): Promise<OrderSummary[]> {
    return [...this.summaries.values()]
      .filter((s) => s.stage === 'paid' && !s.reserved && !s.onHold && !s.inException && s.movableSince <= before)
      .slice(0, limit);
  }

  async presaleDue(now: string, limit: number): Promise<OrderSummary[]> {
    return [...this.summaries.values()]
      .filter((s) => !!s.presaleNextAt && Date.parse(s.presaleNextAt) <= Date.parse(now))
      .sort((a, b) => Date.parse(a.presaleNextAt ?? '') - Date.parse(b.presaleNextAt ?? ''))
      .slice(0, limit);
  }

  async waitingForStock(f: { sku?: string; limit: number; after?: { placedAt: string; orderId: string } }): Promise<OrderSummary[]> {
    const key = (s: { placedAt: string; orderId: string }) => `${new Date(s.placedAt).toISOString()} ${s.orderId}`;
    return [...this.summaries.values()]
      .filter((s) => !!s.shortSkus && (f.sku === undefined || s.shortSkus.includes(f.sku)) && (!f.after || key(s) > key(f.after)))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      .slice(0, f.limit);
  }

  async clearShortSkus(orderId: string, revision: number): Promise<void> {
    const row = this.summaries.get(orderId);
    if (row && row.revision === revision) this.summaries.set(orderId, { ...row, shortSkus: null });
  }

  async deliveredSince(before: string, limit: number, after?: { movableSince: string; orderId: string }): Promise<OrderSummary[]> {
    const key = (s: { movableSince: string; orderId: string }) => `${new Date(s.movableSince).toISOString()} ${s.orderId}`;
    return [...this.summaries.values()]
      .filter((s) => s.stage === 'delivered' && !s.onHold && !s.inException && Date.parse(s.movableSince) <= Date.parse(before) && (!after || key(s) > key(after)))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      .slice(0, limit);
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
