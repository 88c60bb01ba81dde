import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiPreconditionFailedResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { actorFromPrincipal, ForCustomers, inScope, redactFields, requirePrincipal, Requires, shopFilter, type Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { checkIdempotencyKey, IdParam, Throttle } from '@flowline/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OrderApi, type ApiResult, type RequestContext } from '../order-api';
import { checkPlacement, orderScopeOf } from '../order-scope';
import { etagOf, OrderVersionMismatchFilter, parseIfMatch } from '../order-api.errors';
import { ConfirmPaymentDto, ListOrdersQueryDto, paymentOf, ReasonDto, RecordRefundDto, ReleaseOrderDto, RequestRefundDto } from './dto/order-commands.dto';
import { DomainErrorDto, OrderPageDto, OrderViewDto, ValidationErrorDto, VersionMismatchErrorDto } from './dto/order-responses.dto';
import { PlaceOrderDto } from './dto/place-order.dto';
import { RevealedPiiDto, RevealPiiDto } from './dto/pii-reveal.dto';
import { toSubmission } from './dto/place-order.mapper';

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'A retried request with the same key and body is applied once and answered the same (header Idempotent-Replayed: true); the same key with another body -> 422 IDEMPOTENCY_KEY_REUSED; concurrent requests with one key run once. 1-200 printable ASCII characters.',
  schema: { type: 'string', minLength: 1, maxLength: 200, example: 'tmall-3318459620112233445-v1' },
};
const IF_MATCH_HEADER = {
  name: 'If-Match',
  required: false,
  description: 'The ETag (revision) the client decided on, e.g. "3"; 412 ORDER_VERSION_MISMATCH when the order has changed since. Absent or * -> no check.',
  schema: { type: 'string', example: '"3"' },
};

/** Response headers of a request that returns one order. */
const ORDER_HEADERS = {
  ETag: { description: 'The order revision, quoted ("3"); send it back as If-Match', schema: { type: 'string' } },
  'Idempotent-Replayed': { description: '"true" when the response is the stored answer to an earlier request with this Idempotency-Key', schema: { type: 'string' } },
};

/** A malformed order id in the path is 400 naming `orderId`, like gRPC's INVALID_ARGUMENT naming order_id. */
const ORDER_ID = new IdParam('orderId');
const ORDER_ID_PARAM = ApiParam({ name: 'orderId', description: 'Order id (ULID) made by the server', example: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' });
const BAD_REQUEST = ApiBadRequestResponse({ type: ValidationErrorDto, description: 'A field, query parameter or header broke a rule: errors[] names each (field, constraint, message)' });
const NOT_FOUND = ApiNotFoundResponse({ type: DomainErrorDto, description: 'ORDER_NOT_FOUND: no order has this id' });

/** What every command on an existing order documents: its answer, its headers and each refusal. */
function OrderCommandDocs(summary: string) {
  return applyDecorators(
    ApiOperation({ summary }),
    ORDER_ID_PARAM,
    ApiHeader(IDEMPOTENCY_HEADER),
    ApiHeader(IF_MATCH_HEADER),
    ApiOkResponse({ type: OrderViewDto, description: 'The order after the command', headers: ORDER_HEADERS }),
    BAD_REQUEST,
    NOT_FOUND,
    ApiConflictResponse({ type: DomainErrorDto, description: 'The order refuses the command in its stage or state (ORDER_ILLEGAL_TRANSITION, ORDER_ON_HOLD, ...; ORDER_CONCURRENT_MODIFICATION: read again)' }),
    ApiPreconditionFailedResponse({ type: VersionMismatchErrorDto, description: 'ORDER_VERSION_MISMATCH: If-Match no longer holds' }),
    ApiUnprocessableEntityResponse({ type: DomainErrorDto, description: 'Well-formed but invalid (e.g. ORDER_PAYMENT_AMOUNT_MISMATCH) or IDEMPOTENCY_KEY_REUSED' }),
  );
}

/**
 * The request context of a command: the actor is the verified token's subject (issue #16);
 * X-Actor-Id / X-Actor-Role headers are ignored.
 */
function contextOf(headers: Record<string, string | undefined>, key: string | undefined, principal: Principal): RequestContext {
  const ifMatch = parseIfMatch(headers['if-match']);
  return {
    transport: 'rest',
    ...(key ? { idempotencyKey: key } : {}),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(headers['x-correlation-id'] ? { correlationId: headers['x-correlation-id'] } : {}),
    actor: actorFromPrincipal(principal),
    // Checked by the command on the order it loads (one read, inside its transaction): 404 out of scope.
    ...withScope(principal),
  };
}

function withScope(principal: Principal): Pick<RequestContext, 'scope'> {
  const scope = orderScopeOf(principal);
  return scope ? { scope } : {};
}

/** An order outside the caller's shops (or not the customer's) answers exactly like an unknown id. */
export function orderNotFound(orderId: string): DomainError {
  return new DomainError('ORDER_NOT_FOUND', `order ${orderId} not found`, { orderId }, 'not_found');
}

/** Field-level rule on the order view (a warehouse token gets no payment fields). */
export function orderViewFor<T extends object>(principal: Principal, view: T): T {
  return redactFields(principal, 'Order', view as Record<string, unknown>) as T;
}

const HOUR = 3_600_000;
/** Reveals per person per hour (ORDER_PII_REVEALS_PER_HOUR, default 60, read per request): shared by instances, 429 + Retry-After beyond. */
export function piiRevealsPerHour(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.ORDER_PII_REVEALS_PER_HOUR ?? '');
  return Number.isInteger(n) && n > 0 ? n : 60;
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
  @ApiOperation({
    summary:
      'Accept an order from a channel, paid already when `payment` is sent (one commit; needs the update Order permission that confirming a payment needs, else 403). 201 created; 200 when the channel order already exists (that order is returned unchanged; a payment sent with it is not applied).',
  })
  @ApiHeader({ ...IDEMPOTENCY_HEADER, required: true })
  @ApiCreatedResponse({
    type: OrderViewDto,
    description: 'The order was created',
    headers: { ...ORDER_HEADERS, Location: { description: '/api/orders/{orderId}', schema: { type: 'string' } } },
  })
  @ApiOkResponse({ type: OrderViewDto, description: 'The (channel, channelOrderId) is already an order: that order, none is created', headers: ORDER_HEADERS })
  @BAD_REQUEST
  @ApiPayloadTooLargeResponse({ description: 'The body is over BODY_LIMIT_BYTES' })
  @ApiUnprocessableEntityResponse({ type: DomainErrorDto, description: 'ORDER_TOTAL_MISMATCH (grandTotal differs from the server total), IDEMPOTENCY_KEY_REUSED, or another invalid order' })
  @Requires('create', 'Order')
  async place(@Body() body: PlaceOrderDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const key = checkIdempotencyKey(headers['idempotency-key'], true);
    const principal = requirePrincipal(req);
    checkPlacement(principal, body.shopId, body.payment != null);
    const result = await this.api.placeOrder(toSubmission(body, new Date().toISOString()), body.grandTotal, contextOf(headers, key, principal), body, body.payment ? paymentOf(body.payment) : undefined);
    if (result.status === 201) reply.header('Location', `/api/orders/${result.order.orderId}`);
    return send(reply, result);
  }

  @Get()
  @ApiOperation({ summary: 'Orders newest first, filtered by channel / stage / shop / flag; cursor pagination (limit 1 to 100; out of range: 400).' })
  @ApiOkResponse({ type: OrderPageDto, description: 'One page from the orders read table; nextCursor is null on the last page' })
  @BAD_REQUEST
  @ApiUnprocessableEntityResponse({ type: DomainErrorDto, description: 'INVALID_CURSOR: not a cursor this API issued' })
  @Requires('read', 'Order')
  async list(@Query() query: ListOrdersQueryDto, @Req() req: FastifyRequest) {
    const principal = requirePrincipal(req);
    // Data scoping: a shop-limited user lists only their shops (a customer's token is refused by the guard: the portal reads by order id).
    const shops = shopFilter(principal, query.shopId);
    if (shops && shops.length === 0) return { orders: [], nextCursor: null };
    const page = await this.api.list({
      ...(query.channel ? { channel: query.channel } : {}),
      ...(query.stage ? { stages: query.stage } : {}),
      ...(shops?.length === 1 ? { shopId: shops[0] } : query.shopId ? { shopId: query.shopId } : {}),
      ...(query.flag ? { flag: query.flag } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      ...(query.limit ? { limit: query.limit } : {}),
    });
    // Several shops: the page keeps only theirs (the cursor still walks the whole table).
    const orders = shops && shops.length > 1 ? page.orders.filter((o) => inScope(principal, o)) : page.orders;
    return { ...page, orders: orders.map((o) => orderViewFor(principal, o)) };
  }

  @Get(':orderId')
  @ApiOperation({ summary: 'One order: stage, flags, masked customer, totals, revision (also the ETag).' })
  @ORDER_ID_PARAM
  @ApiOkResponse({ type: OrderViewDto, headers: { ETag: ORDER_HEADERS.ETag } })
  @NOT_FOUND
  @Requires('read', 'Order')
  @ForCustomers()
  async get(@Param('orderId', ORDER_ID) orderId: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const order = await this.api.get(orderId);
    if (!inScope(principal, order)) throw orderNotFound(orderId);
    reply.header('ETag', etagOf(order.revision));
    return orderViewFor(principal, order);
  }

  @Post(':orderId/pii-reveals')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Audited reveal of the personal fields the order view masks (receiver name, phone, street): needs the `reveal Order` ability (customer service, admin); recorded on the order as OrderPiiRevealed with the token subject, client id, fields and reason (timeline and audit trail). Idempotency-Key is not stored for it: the answer holds the values in clear.',
  })
  @ORDER_ID_PARAM
  @ApiCreatedResponse({ type: RevealedPiiDto, description: 'The unmasked fields; the reveal is recorded (the order revision moves on)' })
  @BAD_REQUEST
  @NOT_FOUND
  @Requires('reveal', 'Order')
  @Throttle({ identity: { limit: () => piiRevealsPerHour(), ttl: HOUR } })
  async revealPii(@Param('orderId', ORDER_ID) orderId: string, @Body() body: RevealPiiDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest): Promise<RevealedPiiDto> {
    const principal = requirePrincipal(req);
    return this.api.revealPii(orderId, body.fields ?? [], body.reason, contextOf(headers, undefined, principal));
  }

  @Post(':orderId/payments')
  @HttpCode(200)
  @OrderCommandDocs('Finance confirms the payment; the amount must equal the amount due.')
  @Requires('update', 'Order')
  async pay(@Param('orderId', ORDER_ID) orderId: string, @Body() body: ConfirmPaymentDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'ConfirmPayment', paymentOf(body), ctx, body));
  }

  @Post(':orderId/cancel')
  @HttpCode(200)
  @OrderCommandDocs('Cancel an order that has not shipped; stock is released and packing stopped downstream.')
  @Requires('cancel', 'Order')
  @ForCustomers()
  async cancel(@Param('orderId', ORDER_ID) orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'Cancel', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/refunds')
  @HttpCode(200)
  @OrderCommandDocs('Request a refund: before shipment the full amount (the order ends refunded once finance records it); after shipment any part, for the returns flow.')
  @Requires('refund', 'Order')
  async refund(@Param('orderId', ORDER_ID) orderId: string, @Body() body: RequestRefundDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'RequestRefund', { amount: body.amount, reason: body.reason }, ctx, body));
  }

  @Post(':orderId/refunds/confirm')
  @HttpCode(200)
  @OrderCommandDocs('Finance confirms the money went back: ends an order refunded before shipment; recorded for the returns flow after shipment.')
  @Requires('refund', 'Order')
  async confirmRefund(@Param('orderId', ORDER_ID) orderId: string, @Body() body: RecordRefundDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'RecordRefunded', { amount: body.amount }, ctx, body));
  }

  @Post(':orderId/holds')
  @HttpCode(200)
  @OrderCommandDocs('Put the order on hold (挂起): it keeps its stage and stops moving on.')
  @Requires('update', 'Order')
  async hold(@Param('orderId', ORDER_ID) orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'PlaceHold', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/holds/release')
  @HttpCode(200)
  @OrderCommandDocs('Release the hold; the order continues from its stage.')
  @Requires('update', 'Order')
  async releaseHold(@Param('orderId', ORDER_ID) orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'ReleaseHold', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/exceptions/resolve')
  @HttpCode(200)
  @OrderCommandDocs('Clear the exception flag (after restocking, checking the address, ...); the order continues.')
  @Requires('update', 'Order')
  async resolveException(@Param('orderId', ORDER_ID) orderId: string, @Body() body: ReasonDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.change(orderId, 'ResolveException', { reason: body.reason }, ctx, body));
  }

  @Post(':orderId/release')
  @HttpCode(200)
  @OrderCommandDocs('Release to the warehouse (manual 审单): the flow rules audit the order first; 409 ORDER_AUDIT_NOT_PASSED when they do not release it.')
  @ApiBody({ type: ReleaseOrderDto, required: false })
  @Requires('update', 'Order')
  async release(@Param('orderId', ORDER_ID) orderId: string, @Body() body: ReleaseOrderDto, @Headers() headers: Record<string, string | undefined>, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const principal = requirePrincipal(req);
    const ctx = contextOf(headers, checkIdempotencyKey(headers['idempotency-key'], false), principal);
    return send(reply, await this.api.release(orderId, ctx, body ?? {}));
  }
}
