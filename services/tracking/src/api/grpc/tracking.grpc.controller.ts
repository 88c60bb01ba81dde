import { canReadField, ForCustomers, inScope, isCustomerOnly, requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import type { Metadata } from '@grpc/grpc-js';
import { DomainError } from '@flowline/domain';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ORDER_STAGES, type OrderStage, type SlaColour, type TrackingOrderView, type TrackingTimelineEntryView, type trackingV1 } from '@flowline/contracts';
import { enumValues, pageSize, RequestValidationError, requireId } from '@flowline/platform';
import { filter, map, type Observable } from 'rxjs';
import { changeWithoutPayment, customerView, orderWithoutPayment, withoutPayment } from '../../application/customer-view';
import { TrackingRuntime } from '../../infra/tracking-runtime';
import { matchesWatch } from '../http/tracking.controller';


const DAY = 86_400_000;

const stageToProto = (s: OrderStage | null): trackingV1.OrderSummary['stage'] => (s ? `ORDER_STAGE_${s.toUpperCase()}` : 'ORDER_STAGE_UNSPECIFIED') as trackingV1.OrderSummary['stage'];
const colourToProto = (c: SlaColour): trackingV1.SlaColour => `SLA_COLOUR_${c.toUpperCase()}` as trackingV1.SlaColour;

// Enum names a request may carry: anything else (UNSPECIFIED in a list, or a number this proto does
// not know) is refused naming the field, never dropped from the filter.
const STAGES: Record<string, OrderStage> = Object.fromEntries(ORDER_STAGES.map((s) => [`ORDER_STAGE_${s.toUpperCase()}`, s]));
const COLOURS: Record<string, SlaColour> = Object.fromEntries((['green', 'yellow', 'red', 'none'] as const).map((c) => [`SLA_COLOUR_${c.toUpperCase()}`, c]));
const FLAGS: Record<string, 'on_hold' | 'exception'> = { ORDER_FLAG_ON_HOLD: 'on_hold', ORDER_FLAG_EXCEPTION: 'exception' };
/** The read model's largest page (tracking-queries MAX_PAGE). */
const MAX_PAGE = 500;

export function orderToProto(o: TrackingOrderView): trackingV1.OrderSummary {
  return {
    orderId: o.orderId,
    channel: o.channel,
    channelOrderId: o.channelOrderId,
    shopId: o.shopId,
    stage: stageToProto(o.stage),
    flags: o.flags.map((f) => `ORDER_FLAG_${f.toUpperCase()}` as trackingV1.OrderSummary['flags'][number]),
    grandTotal: o.grandTotal,
    currency: o.currency,
    placedAt: o.placedAt,
    updatedAt: o.lastEventAt,
    stageEnteredAt: o.stageEnteredAt,
    customerNickname: '',
    carrier: o.carrier ?? '',
    trackingNumber: o.trackingNumber ?? '',
    lastEventId: '',
    slaColour: colourToProto(o.sla.colour),
    slaSegment: o.sla.segment ?? '',
    slaYellowAt: o.sla.yellowAt ?? '',
    slaDueAt: o.sla.dueAt ?? '',
    stuck: o.stuck,
    etaShipBy: o.etaShipBy ?? '',
    customerMasked: o.customerMasked ?? '',
    manualTouch: o.manualTouch,
    holdReason: o.holdReason ?? '',
    exceptionCode: o.exceptionCode ?? '',
    exceptionReason: o.exceptionReason ?? '',
    stageLabelZh: o.stageLabel.zh,
    stageLabelEn: o.stageLabel.en,
    priority: o.priority,
    paidAmount: o.paidAmount,
    refundedAmount: o.refundedAmount,
    eventCount: o.eventCount,
  };
}

export function entryToProto(t: TrackingTimelineEntryView): trackingV1.TimelineEntry {
  const attributes: Record<string, string> = {};
  if (t.causationId) attributes.causationId = t.causationId;
  return {
    eventId: t.eventId,
    type: t.type,
    source: t.context,
    occurredAt: t.occurredAt,
    stageAfter: stageToProto(t.stageAfter),
    actor: t.actor ? { kind: t.actor.kind, id: t.actor.id, role: t.actor.role ?? '', name: t.actor.name ?? '' } : undefined,
    summary: `${t.who.en}: ${t.what.en}${t.why ? ` (${t.why.en})` : ''}`,
    ruleId: t.rule?.ruleId ?? '',
    ruleSetVersion: t.rule?.ruleSetVersion ?? '',
    attributes,
    correlationId: t.correlationId,
    whoZh: t.who.zh,
    whoEn: t.who.en,
    whatZh: t.what.zh,
    whatEn: t.what.en,
    whyZh: t.why?.zh ?? '',
    whyEn: t.why?.en ?? '',
    ruleSetHash: t.rule?.ruleSetHash ?? '',
    streamId: t.streamId,
    streamPosition: t.streamPosition,
  };
}

/** gRPC `flowline.tracking.v1.TrackingService`: the same queries as REST, plus WatchOrders streaming. */
@Controller()
export class TrackingGrpcController {
  constructor(private readonly runtime: TrackingRuntime) {}

  @GrpcMethod('TrackingService', 'ListOrders')
  @Requires('read', 'Order')
  async listOrders(req: trackingV1.ListOrdersRequest, metadata: Metadata): Promise<trackingV1.ListOrdersResponse> {
    const flags = new Set(enumValues('flags', req.flags, FLAGS));
    const limit = pageSize('page.pageSize', req.page?.pageSize, { max: MAX_PAGE });
    // Data scoping (issue #16): a shop-limited user lists only their shops (a customer's token is refused by the guard).
    if (req.placedFrom && req.placedTo && Date.parse(req.placedFrom) > Date.parse(req.placedTo)) {
      throw new RequestValidationError([{ field: 'placedFrom', constraint: 'notAfterTo', message: 'placedFrom must not be after placedTo' }]);
    }
    const principal = requirePrincipal(metadata);
    const shops = shopFilter(principal, req.shopId || undefined);
    const stages = enumValues('stages', req.stages, STAGES);
    const slaColours = enumValues('slaColours', req.slaColours, COLOURS);
    if (shops && shops.length === 0) return { orders: [], page: { nextPageToken: '', totalSize: 0 } };
    const page = await this.runtime.queries.listOrders({
      stages,
      slaColours,
      channel: req.channel || undefined,
      // The scope is part of the query: a page is never thinned after its limit.
      ...(shops ? { shopIds: shops } : {}),
      query: req.query || undefined,
      placedFrom: req.placedFrom || undefined,
      placedTo: req.placedTo || undefined,
      onHold: flags.has('on_hold') ? true : undefined,
      exception: flags.has('exception') ? true : undefined,
      stuck: req.stuckOnly ? true : undefined,
      limit,
      cursor: req.page?.pageToken || undefined,
    });
    const money = canReadField(principal, 'Order', 'paidAmount');
    return { orders: page.items.map((o) => orderToProto(money ? o : orderWithoutPayment(o))), page: { nextPageToken: page.nextCursor ?? '', totalSize: 0 } };
  }

  @GrpcMethod('TrackingService', 'GetOrder')
  @Requires('read', 'Order')
  @ForCustomers()
  async getOrder(req: trackingV1.GetOrderRequest, metadata: Metadata): Promise<trackingV1.GetOrderResponse> {
    const found = await this.runtime.queries.getOrder(requireId('orderId', req.orderId), req.asOf || undefined);
    const principal = requirePrincipal(metadata);
    // A buyer sees their journey, not the staff's notes about it (as over REST).
    // Roles without the order's payment fields (warehouse) get it without them, as over REST.
    const d = isCustomerOnly(principal) ? customerView(found) : canReadField(principal, 'Order', 'paidAmount') ? found : withoutPayment(found);
    // Out of scope answers like an unknown order (NOT_FOUND), not PERMISSION_DENIED.
    if (!inScope(principal, d.order)) throw new DomainError('order_not_found', `order ${req.orderId} is not tracked`, { orderId: req.orderId }, 'not_found');
    return {
      order: orderToProto(d.order),
      timeline: d.timeline.map(entryToProto),
      stageDurations: d.stageDurations.map((v) => ({
        stage: stageToProto(v.stage),
        enteredAt: v.enteredAt,
        leftAt: v.leftAt ?? '',
        durationSeconds: v.durationMs === null ? 0 : Math.floor(v.durationMs / 1000),
        durationMs: v.durationMs ?? 0,
        visit: v.visit,
      })),
      asOf: d.asOf ?? '',
    };
  }

  @GrpcMethod('TrackingService', 'GetKpis')
  @Requires('read', 'Order')
  async getKpis(req: trackingV1.GetKpisRequest, metadata: Metadata): Promise<trackingV1.GetKpisResponse> {
    const to = req.to || this.runtime.clock.now().toISOString();
    const from = req.from || new Date(Date.parse(to) - 30 * DAY).toISOString();
    // A shop-limited user's figures are their shops'.
    const k = await this.runtime.queries.kpis(from, to, req.channel || undefined, shopFilter(requirePrincipal(metadata)));
    return {
      from: k.from,
      to: k.to,
      ordersPlaced: k.orders,
      ordersShipped: k.paidToShipped.count,
      paidToShippedP50Seconds: (k.paidToShipped.p50Ms ?? 0) / 1000,
      paidToShippedP90Seconds: (k.paidToShipped.p90Ms ?? 0) / 1000,
      stageShares: k.stageShares.map((s) => ({ stage: stageToProto(s.stage), share: s.share, averageSeconds: s.averageMs / 1000 })),
      nonLogisticsShare: k.nonLogisticsShare ?? 0,
      exceptionRate: k.exceptionRate ?? 0,
      manualTouchRate: k.manualTouchRate ?? 0,
      cancellationRate: k.cancellationRate ?? 0,
      channel: k.channel ?? '',
      cycleTimes: Object.entries(k.cycleTimeByStage).map(([stage, s]) => ({
        stage: stageToProto(stage as OrderStage),
        count: s!.count,
        p50Seconds: (s!.p50Ms ?? 0) / 1000,
        p90Seconds: (s!.p90Ms ?? 0) / 1000,
      })),
      exceptionOrders: k.exceptionOrders,
      manualTouchOrders: k.manualTouchOrders,
      autoIngestRate: k.autoIngestRate ?? 0,
      platformOrders: k.platformOrders,
      byChannelAndStage: k.byChannelAndStage.map((c) => ({ channel: c.channel, stage: stageToProto(c.stage), orders: c.orders })),
    };
  }

  @GrpcMethod('TrackingService', 'ListStuckOrders')
  @Requires('read', 'Order')
  async listStuckOrders(req: trackingV1.ListStuckOrdersRequest, metadata: Metadata): Promise<trackingV1.ListStuckOrdersResponse> {
    const limit = pageSize('page.pageSize', req.page?.pageSize, { max: MAX_PAGE }) ?? 100;
    // A shop-limited user sees the stuck orders of their shops.
    const stuck = await this.runtime.queries.stuckOrders(limit, req.stalledForSeconds ? req.stalledForSeconds * 1000 : undefined, shopFilter(requirePrincipal(metadata)));
    return {
      orders: stuck.map((s) => ({ order: orderToProto(s.order), stalledSeconds: Math.floor(s.stuckForMs / 1000), reason: s.reason.en })),
      page: { nextPageToken: '', totalSize: stuck.length },
    };
  }

  @GrpcMethod('TrackingService', 'WatchOrders')
  @Requires('read', 'Order')
  watchOrders(req: trackingV1.WatchOrdersRequest, metadata: Metadata): Observable<trackingV1.WatchOrdersResponse> {
    const principal = requirePrincipal(metadata);
    const watch = {
      orderId: (req.orderIds ?? []).map((id, i) => requireId(`orderIds.${i}`, id)),
      stage: enumValues('stages', req.stages, STAGES),
      sla: enumValues('slaColours', req.slaColours, COLOURS),
      channel: req.channel || undefined,
    };
    const money = canReadField(principal, 'Order', 'paidAmount');
    return this.runtime.feed.changes.pipe(
      // A shop-limited user's stream carries their shops' orders only.
      filter((c) => matchesWatch(c, watch) && (c.kind !== 'order' || inScope(principal, c.order))),
      map((c) => (money ? c : changeWithoutPayment(c))),
      map((c): trackingV1.WatchOrdersResponse =>
        c.kind === 'order' ? { kind: 'order', order: orderToProto(c.order), entry: c.entry ? entryToProto(c.entry) : undefined } : { kind: 'rebuilt', order: undefined, entry: undefined },
      ),
    );
  }
}


