import { AllowQueryToken, canReadField, ForCustomers, inScope, isCustomerOnly, requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import type { TrackingCounts, TrackingShortageOrder, TrackingShortages, TrackingKpiReport, TrackingOrderChange, TrackingOrderDetailView, TrackingOrderPage, TrackingShipmentView, TrackingStuckOrderView } from '@flowline/contracts';
import { Controller, Get, Headers, Param, Query, Sse, type MessageEvent } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParam, RequestValidationError } from '@flowline/platform';
import { filter, interval, map, merge, type Observable } from 'rxjs';
import { changeWithoutPayment, customerView, orderWithoutPayment, withoutPayment } from '../../application/customer-view';
import { TrackingRuntime } from '../../infra/tracking-runtime';
import { CountsQueryDto, GetTrackedOrderQueryDto, KpiQueryDto, ListTrackedOrdersQueryDto, OPEN_STAGES, ShipmentsQueryDto, ShortageOrdersQueryDto, ShortagesQueryDto, StuckQueryDto, WatchQueryDto } from './dto/tracking.dto';

const DAY = 86_400_000;

/** Whether a live change matches a watcher's filters (a `rebuilt` message always does). */
export function matchesWatch(change: TrackingOrderChange, w: { orderId?: string[]; stage?: string[]; sla?: string[]; channel?: string }): boolean {
  if (change.kind !== 'order') return true;
  const o = change.order;
  if (w.orderId?.length && !w.orderId.includes(o.orderId)) return false;
  if (w.stage?.length && !w.stage.includes(o.stage)) return false;
  if (w.sla?.length && !w.sla.includes(o.sla.colour)) return false;
  if (w.channel && w.channel !== o.channel) return false;
  return true;
}

/** REST read API: the board, one order (now or as of a moment), KPIs, stuck orders, live updates. */
@ApiTags('tracking')
@Controller('api/tracking')
export class TrackingController {
  constructor(private readonly runtime: TrackingRuntime) {}

  @Get('orders')
  @ApiOperation({ summary: 'Orders, newest first, filtered by stage, SLA colour, channel, flags, placement time, phone tail and SKU; cursor pagination' })
  @Requires('read', 'Order')
  async listOrders(@Query() q: ListTrackedOrdersQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingOrderPage> {
    // As the KPI window and the audit trail: an empty window is a mistake to name, not an empty page.
    if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw new RequestValidationError([{ field: 'from', constraint: 'notAfterTo', message: 'from must not be after to' }]);
    const flags = new Set(q.flags ?? []);
    const principal = requirePrincipal(h);
    // Data scoping (issue #16): a shop-limited user lists only their shops (a customer's token is refused by the guard).
    const shops = shopFilter(principal, q.shopId);
    if (shops && shops.length === 0) return { items: [], nextCursor: null };
    const page = await this.runtime.queries.listOrders({
      stages: q.stage,
      slaColours: q.sla,
      channel: q.channel,
      // The scope is part of the query: a page is never thinned after its limit.
      ...(shops ? { shopIds: shops } : {}),
      onHold: flags.has('on_hold') ? true : undefined,
      exception: flags.has('exception') ? true : undefined,
      stuck: flags.has('stuck') ? true : undefined,
      placedFrom: q.from,
      placedTo: q.to,
      query: q.q,
      phoneTail: q.phoneTail,
      sku: q.sku,
      limit: q.limit,
      cursor: q.cursor,
    });
    return canReadField(principal, 'Order', 'paidAmount') ? page : { ...page, items: page.items.map(orderWithoutPayment) };
  }

  @Get('orders/:orderId')
  @ApiOperation({ summary: 'One order with its whole timeline (zh-CN and en) and stage durations; `asOf` gives it as it stood then' })
  @Requires('read', 'Order')
  @ForCustomers()
  async getOrder(@Param('orderId', new IdParam('orderId')) orderId: string, @Query() q: GetTrackedOrderQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingOrderDetailView> {
    const detail = await this.runtime.queries.getOrder(orderId, q.asOf);
    const principal = requirePrincipal(h);
    // Out of scope answers like an unknown order (404 ORDER_NOT_FOUND), not 403.
    if (!inScope(principal, detail.order)) throw new DomainError('order_not_found', `order ${orderId} is not tracked`, { orderId }, 'not_found');
    // A buyer sees their journey, not the staff's notes about it.
    if (isCustomerOnly(principal)) return customerView(detail);
    // Roles without the order's payment fields (warehouse) get it without them, as from order-intake.
    return canReadField(principal, 'Order', 'paidAmount') ? detail : withoutPayment(detail);
  }

  @Get('shipments')
  @ApiOperation({ summary: 'Parcels of several orders (carrier, waybill, tracking number, last carrier state and words): the board cards of packed and shipped orders' })
  @Requires('read', 'Shipment')
  shipments(@Query() q: ShipmentsQueryDto, @Headers() h: Record<string, string | undefined>): Promise<Record<string, TrackingShipmentView[]>> {
    // A shop-limited user gets the parcels of their shops' orders; another shop's order is left out, as an unknown one.
    return this.runtime.queries.shipmentsOfOrders(q.orderIds, shopFilter(requirePrincipal(h)));
  }

  @Get('kpis')
  @ApiOperation({ summary: 'Cycle time per stage (p50/p90), exception rate, manual-touch rate, auto-ingest rate, orders per channel and stage' })
  @Requires('read', 'Order')
  kpis(@Query() q: KpiQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingKpiReport> {
    const to = q.to ?? this.runtime.clock.now().toISOString();
    const from = q.from ?? new Date(Date.parse(to) - 30 * DAY).toISOString();
    // A shop-limited user's figures are their shops' (as analytics' KPIs are).
    return this.runtime.queries.kpis(from, to, q.channel, shopFilter(requirePrincipal(h)));
  }

  @Get('counts')
  @ApiOperation({ summary: "Every open order counted by channel, shop, stage, SLA colour, hold, exception and stuck: a board's tiles and column heads, not a page of cards" })
  @Requires('read', 'Order')
  async counts(@Query() q: CountsQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingCounts> {
    const stages = q.stage ?? OPEN_STAGES;
    // A shop-limited user counts their shops' orders only.
    const shops = shopFilter(requirePrincipal(h), q.shopId);
    if (shops && shops.length === 0) return { at: this.runtime.clock.now().toISOString(), stages, groups: [] };
    return this.runtime.queries.counts({ stages, channel: q.channel, ...(shops ? { shopIds: shops } : {}) });
  }

  @Get('shortages')
  @ApiOperation({ summary: 'SKUs open orders wait for (缺货): inventory could not reserve them; per SKU the waiting orders, the units they asked for and the oldest wait, most waiting orders first' })
  @Requires('read', 'Order')
  async shortages(@Query() q: ShortagesQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingShortages> {
    const shops = shopFilter(requirePrincipal(h), q.shopId);
    if (shops && shops.length === 0) return { at: this.runtime.clock.now().toISOString(), orders: 0, skus: [] };
    return this.runtime.queries.shortages({ channel: q.channel, limit: q.limit, ...(shops ? { shopIds: shops } : {}) });
  }

  @Get('shortages/orders')
  @ApiOperation({ summary: 'The open orders waiting for one SKU, longest waiting first (the order a restock serves them in), with all their short lines' })
  @Requires('read', 'Order')
  async shortageOrders(@Query() q: ShortageOrdersQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingShortageOrder[]> {
    const shops = shopFilter(requirePrincipal(h), q.shopId);
    if (shops && shops.length === 0) return [];
    return this.runtime.queries.shortageOrders({ sku: q.sku, channel: q.channel, limit: q.limit, ...(shops ? { shopIds: shops } : {}) });
  }

  @Get('stuck')
  @ApiOperation({ summary: 'Orders in one working stage for longer than the stuck threshold (24 h by default), longest first' })
  @Requires('read', 'Order')
  stuck(@Query() q: StuckQueryDto, @Headers() h: Record<string, string | undefined>): Promise<TrackingStuckOrderView[]> {
    // A shop-limited user sees the stuck orders of their shops.
    return this.runtime.queries.stuckOrders(q.limit, undefined, shopFilter(requirePrincipal(h)));
  }

  // The board's EventSource cannot send headers: ?access_token= is accepted here.
  @AllowQueryToken()
  @Sse('stream')
  @ApiOperation({ summary: 'Server-sent events: one `order` message per change of a matching order; `rebuilt` after a rebuild swap' })
  @Requires('read', 'Order')
  stream(@Query() q: WatchQueryDto, @Headers() h: Record<string, string | undefined>): Observable<MessageEvent> {
    const principal = requirePrincipal(h);
    const money = canReadField(principal, 'Order', 'paidAmount');
    const changes = this.runtime.feed.changes.pipe(
      // A shop-limited user's board gets the changes of their shops' orders only.
      filter((c) => matchesWatch(c, q) && (c.kind !== 'order' || inScope(principal, c.order))),
      map((c) => (money ? c : changeWithoutPayment(c))),
      map((c): MessageEvent => ({ type: c.kind, data: c, id: c.kind === 'order' ? `${c.order.orderId}:${c.order.eventCount}` : undefined })),
    );
    // A comment-like keep-alive every 15 s keeps proxies from closing an idle stream.
    const keepAlive = interval(15_000).pipe(map((): MessageEvent => ({ type: 'ping', data: '' })));
    return merge(changes, keepAlive);
  }
}
