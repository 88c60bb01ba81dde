import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { actorFromPrincipal, canReadField, ForCustomers, inScope, requirePrincipal, Requires, shopFilter, type Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { ACTOR_KINDS, CHANNELS, maskName, ORDER_STAGES, ordersV1, type Actor, type Channel, type OrderStage } from '@flowline/contracts';
import { enumValue, enumValues, flattenValidationErrors, headerError, pageSize, RequestValidationError, requireId } from '@flowline/platform';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { OrderSummary } from '../../application/order-store.port';
import type { OrderView } from '../../application/order-view';
import { OrderApi, type ApiResult, type RequestContext } from '../order-api';
import { checkPlacement, orderScopeOf } from '../order-scope';
import { OrderVersionMismatchFilter } from '../order-api.errors';
import { ConfirmPaymentDto, paymentOf, ReasonDto, RecordRefundDto, RequestRefundDto } from '../http/dto/order-commands.dto';
import { PlaceOrderDto } from '../http/dto/place-order.dto';
import { toSubmission } from '../http/dto/place-order.mapper';

type CommandMeta = { requestId: string; correlationId: string; actor?: { kind: string; id: string; role: string; name: string } };

/** proto3 `optional` scalars arrive as a value plus a `_<name>` oneof marker (proto-loader with oneofs). */
function optionalNumber(req: object, field: string): number | undefined {
  const r = req as Record<string, unknown>;
  const marker = r[`_${field}`];
  if (marker !== undefined && marker !== field) return undefined;
  const v = r[field];
  if (marker === undefined && (v === undefined || v === null)) return undefined;
  return typeof v === 'number' ? v : v === undefined || v === null ? undefined : Number(v);
}

const blankToUndefined = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

async function validated<T extends object>(cls: new () => T, plain: object): Promise<T> {
  const instance = plainToInstance(cls, plain);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length > 0) throw new RequestValidationError(flattenValidationErrors(errors));
  return instance;
}

/**
 * The request context of a gRPC command. The actor is the verified token's subject (issue #16);
 * `meta.actor` is still checked for shape (an unknown kind is INVALID_ARGUMENT) but never believed.
 */
export function context(meta: CommandMeta | undefined, principal: Principal, requireKey: boolean, expectedVersion?: number): RequestContext {
  const key = blankToUndefined(meta?.requestId);
  if (requireKey && !key) throw headerError('meta.request_id', 'required', 'meta.request_id is required (the idempotency key of the submission)');
  const kind = meta?.actor?.kind || 'user';
  if (meta?.actor?.id && !ACTOR_KINDS.includes(kind as Actor['kind'])) {
    throw headerError('meta.actor.kind', 'isIn', `meta.actor.kind must be one of ${ACTOR_KINDS.join(', ')}`);
  }
  const verified = actorFromPrincipal(principal);
  // The actor rides on every published envelope (the relay copies it): a buyer's name leaves masked.
  const name = verified.kind === 'customer' ? maskName(verified.name) || undefined : verified.name;
  const { name: _name, ...rest } = verified;
  const actor: Actor = { ...rest, ...(name ? { name } : {}) };
  const scope = orderScopeOf(principal);
  return {
    transport: 'grpc',
    // Out of the caller's shops (or not the customer's order): the command answers NOT_FOUND, like an unknown id.
    ...(scope ? { scope } : {}),
    ...(key ? { idempotencyKey: key } : {}),
    ...(expectedVersion !== undefined ? { ifMatch: expectedVersion } : {}),
    ...(meta && blankToUndefined(meta.correlationId) ? { correlationId: meta.correlationId } : {}),
    actor,
  };
}

const notFound = (orderId: string) => new DomainError('ORDER_NOT_FOUND', `order ${orderId} not found`, { orderId }, 'not_found');

const STAGE_TO_PROTO = Object.fromEntries(ORDER_STAGES.map((s) => [s, `ORDER_STAGE_${s.toUpperCase()}`])) as Record<OrderStage, ordersV1.OrderStage>;
const PROTO_TO_STAGE = Object.fromEntries(ORDER_STAGES.map((s) => [`ORDER_STAGE_${s.toUpperCase()}`, s])) as Record<string, OrderStage>;
const FLAG_FROM_PROTO: Record<string, 'on_hold' | 'exception'> = { [ordersV1.OrderFlag.ORDER_FLAG_ON_HOLD]: 'on_hold', [ordersV1.OrderFlag.ORDER_FLAG_EXCEPTION]: 'exception' };
const CHANNEL_NAMES = Object.fromEntries(CHANNELS.map((c) => [c, c])) as Record<string, Channel>;
/** Same cap as REST's `limit` (the read table's page). */
const MAX_PAGE_SIZE = 100;

export function toProtoOrder(v: OrderView): ordersV1.Order {
  return {
    orderId: v.orderId,
    channel: v.channel,
    channelOrderId: v.channelOrderId,
    shopId: v.shopId,
    stage: STAGE_TO_PROTO[v.stage],
    flags: v.flags.map((f) => (f === 'on_hold' ? ordersV1.OrderFlag.ORDER_FLAG_ON_HOLD : ordersV1.OrderFlag.ORDER_FLAG_EXCEPTION)),
    customer: {
      channelCustomerId: v.customer.channelCustomerId ?? '',
      nickname: v.customer.nickname ?? '',
      nameMasked: v.customer.nameMasked ?? '',
      phoneMasked: v.customer.phoneMasked ?? '',
      email: v.customer.email ?? '',
      tags: v.customer.tags,
    },
    shippingAddress: {
      province: v.shippingAddress.province,
      city: v.shippingAddress.city,
      district: v.shippingAddress.district,
      streetMasked: v.shippingAddress.streetMasked ?? '',
      postalCode: v.shippingAddress.postalCode ?? '',
      recipientMasked: v.shippingAddress.recipientMasked ?? '',
      phoneMasked: v.shippingAddress.phoneMasked ?? '',
    },
    lines: v.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unitPrice: l.unitPrice, lineDiscount: l.lineDiscount, category: l.category ?? '' })),
    totals: v.totals,
    buyerMessage: v.buyerMessage ?? '',
    tags: v.tags,
    attachments: v.attachments,
    placedAt: v.placedAt,
    updatedAt: v.updatedAt,
    version: v.revision,
    flagReason: v.hold?.reason ?? v.exception?.reason ?? '',
    amountPaid: v.payment?.amount ?? 0,
    sellerRemark: v.sellerRemark ?? '',
    recipientProtection: v.recipientProtection ? { ...v.recipientProtection, oaid: v.recipientProtection.oaid ?? '' } : undefined,
  };
}

/**
 * A list entry from the orders read table (what REST GET /api/orders returns): the summary fields
 * only; customer, address and lines stay empty (GetOrder has them). No stream is read per row.
 */
export function toProtoOrderSummary(s: OrderSummary): ordersV1.Order {
  return {
    orderId: s.orderId,
    channel: s.channel,
    channelOrderId: s.channelOrderId,
    shopId: s.shopId,
    stage: STAGE_TO_PROTO[s.stage],
    flags: [...(s.onHold ? [ordersV1.OrderFlag.ORDER_FLAG_ON_HOLD] : []), ...(s.inException ? [ordersV1.OrderFlag.ORDER_FLAG_EXCEPTION] : [])],
    customer: undefined,
    shippingAddress: undefined,
    lines: [],
    totals: { itemsTotal: 0, shippingFee: 0, orderDiscount: 0, grandTotal: s.grandTotal, currency: s.currency },
    buyerMessage: '',
    tags: [],
    attachments: [],
    placedAt: s.placedAt,
    updatedAt: s.updatedAt,
    version: s.revision,
    flagReason: '',
    amountPaid: 0,
    sellerRemark: '',
    recipientProtection: undefined,
  };
}

const orderOf = (r: ApiResult) => ({ order: toProtoOrder(r.order) });

/**
 * gRPC surface of order-intake (proto/orders/v1/orders.proto, service flowline.orders.v1.OrderService).
 * Requests are validated with the same DTO rules as REST; refusals carry `x-domain-code`.
 */
@Controller()
@UseFilters(OrderVersionMismatchFilter)
export class OrdersGrpcController {
  constructor(@Inject(OrderApi) private readonly api: OrderApi) {}

  @GrpcMethod('OrderService', 'PlaceOrder')
  @Requires('create', 'Order')
  async placeOrder(req: ordersV1.PlaceOrderRequest, metadata: Metadata): Promise<ordersV1.PlaceOrderResponse> {
    const principal = requirePrincipal(metadata);
    const ctx = context(req.meta, principal, true);
    const grandTotal = optionalNumber(req, 'grandTotal');
    const c = req.customer;
    const a = req.shippingAddress;
    const plain = {
      channel: req.channel,
      channelOrderId: req.channelOrderId,
      shopId: req.shopId,
      customer: {
        channelCustomerId: blankToUndefined(c?.channelCustomerId),
        nickname: blankToUndefined(c?.nickname),
        name: blankToUndefined(c?.name),
        phone: blankToUndefined(c?.phone),
        email: blankToUndefined(c?.email),
        tags: c?.tags ?? [],
      },
      shippingAddress: {
        province: a?.province ?? '',
        city: a?.city ?? '',
        district: a?.district ?? '',
        street: a?.street ?? '',
        detail: blankToUndefined(a?.detail),
        postalCode: blankToUndefined(a?.postalCode),
        recipient: a?.recipient ?? '',
        phone: a?.phone ?? '',
      },
      lines: (req.lines ?? []).map((l) => ({
        lineId: blankToUndefined(l.lineId),
        sku: l.sku,
        title: l.title,
        quantity: l.quantity,
        unitPrice: l.unitPrice,
        lineDiscount: l.lineDiscount,
        category: blankToUndefined(l.category),
        ...(l.unitWeightGrams !== undefined && l.unitWeightGrams !== null ? { unitWeightGrams: l.unitWeightGrams } : {}),
      })),
      shippingFee: req.shippingFee,
      orderDiscount: req.orderDiscount,
      currency: blankToUndefined(req.currency),
      ...(grandTotal !== undefined ? { grandTotal } : {}),
      buyerMessage: blankToUndefined(req.buyerMessage),
      sellerRemark: blankToUndefined(req.sellerRemark),
      tags: req.tags ?? [],
      attachments: req.attachments ?? [],
      placedAt: blankToUndefined(req.placedAt),
      ...(req.recipientProtection
        ? {
            recipientProtection: {
              masked: req.recipientProtection.masked ?? [],
              encrypted: req.recipientProtection.encrypted ?? [],
              withheld: req.recipientProtection.withheld ?? [],
              oaid: blankToUndefined(req.recipientProtection.oaid),
            },
          }
        : {}),
      paymentMethod: blankToUndefined(req.paymentMethod),
      designatedCarrier: blankToUndefined(req.designatedCarrier),
      ...(req.presale ? { presale: { depositAmount: Number(req.presale.depositAmount), balanceDueBy: req.presale.balanceDueBy, shipNotBefore: req.presale.shipNotBefore } } : {}),
      // No amount in a payment is a validation error naming payment.amount (JSON drops the undefined), never a payment of 0.
      ...(req.payment ? { payment: { amount: req.payment.amount?.amount ?? undefined, currency: blankToUndefined(req.payment.amount?.currency), paymentRef: blankToUndefined(req.payment.paymentRef), paidAt: blankToUndefined(req.payment.paidAt) } } : {}),
    };
    const dto = await validated(PlaceOrderDto, JSON.parse(JSON.stringify(plain)) as object);
    checkPlacement(principal, dto.shopId, dto.payment != null);
    const result = await this.api.placeOrder(toSubmission(dto, new Date().toISOString()), dto.grandTotal, ctx, dto, dto.payment ? paymentOf(dto.payment) : undefined);
    return { order: toProtoOrder(result.order), replayed: result.replayed, created: result.status === 201 };
  }

  @GrpcMethod('OrderService', 'GetOrder')
  @Requires('read', 'Order')
  @ForCustomers()
  async getOrder(req: ordersV1.GetOrderRequest, metadata: Metadata): Promise<ordersV1.GetOrderResponse> {
    const principal = requirePrincipal(metadata);
    const orderId = requireId('orderId', req.orderId);
    const order = await this.api.get(orderId);
    if (!inScope(principal, order)) throw notFound(orderId);
    // Field-level rule: a token that may not read money fields gets them zeroed.
    const proto = toProtoOrder(order);
    return { order: canReadField(principal, 'Order', 'payments') ? proto : { ...proto, amountPaid: 0 } };
  }

  @GrpcMethod('OrderService', 'ListOrders')
  @Requires('read', 'Order')
  async listOrders(req: ordersV1.ListOrdersRequest, metadata: Metadata): Promise<ordersV1.ListOrdersResponse> {
    const principal = requirePrincipal(metadata);
    // An unknown stage or flag, or a page size out of range, is refused naming the field: a filter
    // the server cannot apply must not silently widen the result.
    const stages = enumValues('stages', req.stages, PROTO_TO_STAGE);
    const flag = enumValue('flag', req.flag, FLAG_FROM_PROTO, { optional: true });
    const limit = pageSize('page.pageSize', req.page?.pageSize, { max: MAX_PAGE_SIZE });
    const channel = blankToUndefined(req.channel);
    if (channel !== undefined) enumValue('channel', channel, CHANNEL_NAMES);
    // A shop-limited user lists only their shops (a customer's token is refused by the guard).
    const shops = shopFilter(principal, blankToUndefined(req.shopId));
    if (shops && shops.length === 0) return { orders: [], page: { nextPageToken: '', totalSize: 0 } };
    const page = await this.api.list({
      ...(channel ? { channel: channel as Channel } : {}),
      ...(stages.length ? { stages } : {}),
      ...(shops?.length === 1 ? { shopId: shops[0] } : blankToUndefined(req.shopId) ? { shopId: req.shopId } : {}),
      ...(flag ? { flag } : {}),
      ...(req.page && blankToUndefined(req.page.pageToken) ? { cursor: req.page.pageToken } : {}),
      ...(limit ? { limit } : {}),
    });
    // One query on the read table, like REST: no stream is read per listed order.
    const orders = shops && shops.length > 1 ? page.orders.filter((o) => inScope(principal, o)) : page.orders;
    return { orders: orders.map(toProtoOrderSummary), page: { nextPageToken: page.nextCursor ?? '', totalSize: 0 } };
  }

  @GrpcMethod('OrderService', 'ConfirmPayment')
  @Requires('update', 'Order')
  async confirmPayment(req: ordersV1.ConfirmPaymentRequest, metadata: Metadata): Promise<ordersV1.ConfirmPaymentResponse> {
    const dto = await validated(ConfirmPaymentDto, { amount: req.amount?.amount ?? 0, currency: blankToUndefined(req.amount?.currency), paymentRef: blankToUndefined(req.paymentRef), paidAt: blankToUndefined(req.paidAt) });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'ConfirmPayment', paymentOf(dto), context(req.meta, requirePrincipal(metadata), false), dto));
  }

  @GrpcMethod('OrderService', 'CancelOrder')
  @Requires('cancel', 'Order')
  @ForCustomers()
  async cancelOrder(req: ordersV1.CancelOrderRequest, metadata: Metadata): Promise<ordersV1.CancelOrderResponse> {
    const dto = await validated(ReasonDto, { reason: req.reason });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'Cancel', { reason: dto.reason }, context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), dto));
  }

  @GrpcMethod('OrderService', 'RequestRefund')
  @Requires('refund', 'Order')
  async requestRefund(req: ordersV1.RequestRefundRequest, metadata: Metadata): Promise<ordersV1.RequestRefundResponse> {
    const dto = await validated(RequestRefundDto, { amount: req.amount?.amount ?? 0, reason: req.reason });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'RequestRefund', { amount: dto.amount, reason: dto.reason }, context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), dto));
  }

  @GrpcMethod('OrderService', 'PlaceHold')
  @Requires('update', 'Order')
  async placeHold(req: ordersV1.PlaceHoldRequest, metadata: Metadata): Promise<ordersV1.PlaceHoldResponse> {
    const dto = await validated(ReasonDto, { reason: req.reason });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'PlaceHold', { reason: dto.reason }, context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), dto));
  }

  @GrpcMethod('OrderService', 'ReleaseHold')
  @Requires('update', 'Order')
  async releaseHold(req: ordersV1.ReleaseHoldRequest, metadata: Metadata): Promise<ordersV1.ReleaseHoldResponse> {
    const dto = await validated(ReasonDto, { reason: req.reason });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'ReleaseHold', { reason: dto.reason }, context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), dto));
  }

  @GrpcMethod('OrderService', 'ReleaseOrder')
  @Requires('update', 'Order')
  async releaseOrder(req: ordersV1.ReleaseOrderRequest, metadata: Metadata): Promise<ordersV1.ReleaseOrderResponse> {
    return orderOf(await this.api.release(requireId('orderId', req.orderId), context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), { orderId: req.orderId }));
  }

  @GrpcMethod('OrderService', 'ResolveException')
  @Requires('update', 'Order')
  async resolveException(req: ordersV1.ResolveExceptionRequest, metadata: Metadata): Promise<ordersV1.ResolveExceptionResponse> {
    const dto = await validated(ReasonDto, { reason: req.reason });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'ResolveException', { reason: dto.reason }, context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), dto));
  }

  @GrpcMethod('OrderService', 'ConfirmRefund')
  @Requires('refund', 'Order')
  async confirmRefund(req: ordersV1.ConfirmRefundRequest, metadata: Metadata): Promise<ordersV1.ConfirmRefundResponse> {
    const dto = await validated(RecordRefundDto, { amount: req.amount?.amount ?? 0 });
    return orderOf(await this.api.change(requireId('orderId', req.orderId), 'RecordRefunded', { amount: dto.amount }, context(req.meta, requirePrincipal(metadata), false, optionalNumber(req, 'expectedVersion')), dto));
  }
}
