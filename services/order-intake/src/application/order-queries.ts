import type { Channel, OrderStage } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import { OrderErrors } from '../domain/order.errors';
import { isExisting } from '../domain/order.state';
import type { OrderStore, OrderSummary } from './order-store.port';
import { toOrderView, type OrderView } from './order-view';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface OrderPage {
  orders: OrderSummary[];
  /** Opaque; pass it as `cursor` for the next page. Null on the last page. */
  nextCursor: string | null;
}

/** Cursor = base64url of the last order id seen (ids are ULIDs, so "older than" is "less than"). */
export function encodeCursor(orderId: string): string {
  return Buffer.from(JSON.stringify({ before: orderId }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (typeof parsed.before === 'string' && parsed.before.length > 0 && parsed.before.length <= 64) return parsed.before;
  } catch {
    // fall through
  }
  throw new DomainError('INVALID_CURSOR', 'cursor: not a cursor this API issued', { field: 'cursor' }, 'invalid');
}

/** Reads: one order from its stream (always current), lists from the read table. */
export class OrderQueries {
  /** The store is readable so OrderApi can build the reveal use case on it without a new provider. */
  constructor(readonly store: OrderStore) {}

  async get(orderId: string): Promise<OrderView> {
    const { state, revision, events } = await this.store.load(orderId);
    if (!isExisting(state) || revision === 'no_stream') throw OrderErrors.notFound(orderId);
    return toOrderView(state, revision, events[events.length - 1].metadata.occurredAt);
  }

  async list(query: { channel?: Channel; stages?: OrderStage[]; shopId?: string; flag?: 'on_hold' | 'exception'; cursor?: string; limit?: number }): Promise<OrderPage> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
    const before = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.store.list({
      ...(query.channel ? { channel: query.channel } : {}),
      ...(query.stages?.length ? { stages: query.stages } : {}),
      ...(query.shopId ? { shopId: query.shopId } : {}),
      ...(query.flag ? { flag: query.flag } : {}),
      ...(before ? { beforeOrderId: before } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    // presaleNextAt and shortSkus are the timers' (presale, shortage retry), not part of the listed order.
    return { orders: page.map(({ presaleNextAt: _timer, shortSkus: _retry, ...row }) => row), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].orderId) : null };
  }
}
