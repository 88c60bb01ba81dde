import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@flowline/contracts';
import type { FastifyReply } from 'fastify';
import { OrderApi, type ApiResult, type RequestContext } from '../order-api';
import { checkIdempotencyKey, etagOf, OrderVersionMismatchFilter, parseIfMatch } from '../order-api.errors';
import { ConfirmPaymentDto, ListOrdersQueryDto, ReasonDto, RecordRefundDto, ReleaseOrderDto, RequestRefundDto } from './dto/order-commands.dto';
import { PlaceOrderDto } from './dto/place-order.dto';
import { toSubmission } from './dto/place-order.mapper';

const IDEMPOTENCY_HEADER = { name: 'Idempotency-Key', required: false, description: 'A retried request with the same key and body is applied once and answered the same' };
const IF_MATCH_HEADER = { name: 'If-Match', required: false, description: 'The ETag (revision) the client decided on; 412 when the order has changed since' };

function contextOf(headers: Record<string, string | undefined>, key: string | undefined): RequestContext {
  const actorId = headers['x-actor-id'];
  const actor: Actor | undefined = actorId ? { kind: 'user', id: actorId, ...(headers['x-actor-role'] ? { role: headers['x-actor-role'] } : {}) } : undefined;
  const ifMatch = parseIfMatch(headers['if-match']);
  return {
    transport: 'rest',
    ...(key ? { idempotencyKey: key } : {}),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(headers['x-correlation-id'] ? { correlationId: headers['x-correlation-id'] } : {}),
    ...(actor ? { actor } : {}),
  };
}

function send(reply: FastifyReply, result: ApiResult) {
  reply.status(result.status);
  reply.header('ETag', etagOf(result.order.revision));
  if (result.replayed) reply.header('Idempotent-Replayed', 'true');
  return result.order;
}

/** REST API of order-intake under /api/orders (OpenAPI at /docs). Translation only: the rules are in the domain. */
@ApiTags('orders')
@Controller('api/orders')
@UseFilters(OrderVersionMismatchFilter)
export class OrdersHttpController {
  constructor(@Inject(OrderApi) private readonly api: OrderApi) {}

  @Post()
  @ApiOperation({ summary: 'Accept an order from a channel. 201 created; 200 when the channel order already exists (that order is returned).' })
  @ApiHeader({ ...IDEMPOTENCY_HEADER, required: true })
  async place(@Body() body: PlaceOrderDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const key = checkIdempotencyKey(headers['idempotency-key'], true);
    const result = await this.api.placeOrder(toSubmission(body, new Date().toISOString()), body.grandTotal, contextOf(headers, key), body);
    if (result.status === 201) reply.header('Location', `/api/orders/${result.order.orderId}`);
    return send(reply, result);
  }

  @Get()
  @ApiOperation({ summary: 'Orders newest first, filtered by channel / stage / shop / flag; cursor pagination (page size capped at 100).' })
  async list(@Query() query: ListOrdersQueryDto) {
    return this.api.list({
      ...(query.channel ? { channel: query.channel } : {}),
      ...(query.stage ? { stages: query.stage } : {}),
      ...(query.shopId ? { shopId: query.shopId } : {}),
      ...(query.flag ? { flag: query.flag } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      ...(query.limit ? { limit: query.limit } : {}),
    });
  }

  @Get(':orderId')
  @ApiOperation({ summary: 'One order: stage, flags, masked customer, totals, revision (also the ETag).' })
  async get(@Param('orderId') orderId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const order = await this.api.get(orderId);
    reply.header('ETag', etagOf(order.revision));
    return order;
  }

  @Post(':orderId/payments')
  @HttpCode(200)
  @ApiOperation({ summary: 'Finance confirms the payment; the amount must equal the amount due.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async pay(@Param('orderId') orderId: string, @Body() body: ConfirmPaymentDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    const data = { amount: body.amount, currency: body.currency ?? 'CNY', ...(body.paymentRef ? { paymentRef: body.paymentRef } : {}) };
    return send(reply, await this.api.change(orderId, 'ConfirmPayment', data, ctx, body));
  }

  @Post(':orderId/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an order that has not shipped; stock is released and packing stopped downstream.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async cancel(@Param('orderId') orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.change(orderId, 'Cancel', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/refunds')
  @HttpCode(200)
  @ApiOperation({ summary: 'Request a refund: before shipment the full amount (the order ends refunded once finance records it); after shipment any part, for the returns flow.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async refund(@Param('orderId') orderId: string, @Body() body: RequestRefundDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.change(orderId, 'RequestRefund', { amount: body.amount, reason: body.reason }, ctx, body));
  }

  @Post(':orderId/refunds/confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Finance confirms the money went back: ends an order refunded before shipment; recorded for the returns flow after shipment.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async confirmRefund(@Param('orderId') orderId: string, @Body() body: RecordRefundDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.change(orderId, 'RecordRefunded', { amount: body.amount }, ctx, body));
  }

  @Post(':orderId/holds')
  @HttpCode(200)
  @ApiOperation({ summary: 'Put the order on hold (挂起): it keeps its stage and stops moving on.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async hold(@Param('orderId') orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.change(orderId, 'PlaceHold', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/holds/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release the hold; the order continues from its stage.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async releaseHold(@Param('orderId') orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.change(orderId, 'ReleaseHold', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/exceptions/resolve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Clear the exception flag (after restocking, checking the address, ...); the order continues.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async resolveException(@Param('orderId') orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.change(orderId, 'ResolveException', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release to the warehouse (manual 审单): the flow rules audit the order first; 409 ORDER_AUDIT_NOT_PASSED when they do not release it.' })
  @ApiBody({ type: ReleaseOrderDto, required: false })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiHeader(IF_MATCH_HEADER)
  async release(@Param('orderId') orderId: string, @Body() body: ReleaseOrderDto, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false));
    return send(reply, await this.api.release(orderId, ctx, body ?? {}));
  }
}
