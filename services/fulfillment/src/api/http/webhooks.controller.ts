import { Requires } from '@flowline/auth';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@flowline/domain';
import { IdParam } from '@flowline/platform';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, IsUrl, MaxLength, Validate, ValidatorConstraint, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';
import { forbiddenWebhookHost, WEBHOOK_EVENT_TYPES } from '../../domain/webhook.policy';
import { FulfillmentRuntime } from '../../infra/fulfillment-runtime';
import { newWebhookSecret } from '../../infra/webhooks/webhook-outbox';

/** A subscription may not aim at link-local or cloud-metadata hosts (server-side request forgery). */
@ValidatorConstraint({ name: 'webhookTarget' })
class WebhookTarget implements ValidatorConstraintInterface {
  private why(value: unknown): string | null {
    if (typeof value !== 'string') return null;
    try {
      return forbiddenWebhookHost(new URL(value).hostname);
    } catch {
      return null; // IsUrl reports it
    }
  }
  validate(value: unknown): boolean {
    return this.why(value) === null;
  }
  defaultMessage(args: ValidationArguments): string {
    return `url must not point at ${this.why(args.value) ?? 'that host'}`;
  }
}

export class WebhookSubscriptionDto {
  @ApiProperty({ example: 'https://mes.example.com/flowline/webhooks' })
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'url must be an http(s) URL' })
  @Validate(WebhookTarget)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique({ message: 'eventTypes must not name an event type twice' })
  @IsIn(WEBHOOK_EVENT_TYPES as unknown as string[], { each: true })
  eventTypes!: string[];

  @ApiPropertyOptional({ example: '工厂 MES' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

const notFound = (what: string, id: string) => new DomainError('WEBHOOK_NOT_FOUND', `no ${what} ${id}`, { id }, 'not_found');

/**
 * Outbound webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature v1
 * HMAC-SHA256): subscriptions per event type, secret rotation, delivery logs per subscription and
 * per order, manual redelivery.
 */
@ApiTags('webhooks')
@Requires('admin', 'Admin')
@Controller('api/fulfillment/webhooks')
export class WebhooksController {
  constructor(private readonly runtime: FulfillmentRuntime) {}

  @Post('subscriptions')
  @HttpCode(201)
  @ApiOperation({ summary: 'Subscribe a URL to event types; the reply holds the signing secret (whsec_...).' })
  async subscribe(@Body() dto: WebhookSubscriptionDto) {
    const id = `whsub_${this.runtime.newId()}`;
    const secret = newWebhookSecret();
    await this.runtime.pool.query('INSERT INTO webhook_subscriptions (id, url, event_types, secret, description) VALUES ($1, $2, $3, $4, $5)', [
      id,
      dto.url,
      dto.eventTypes,
      secret,
      dto.description ?? null,
    ]);
    return { id, url: dto.url, eventTypes: dto.eventTypes, secret };
  }

  @Get('subscriptions')
  async subscriptions() {
    const r = await this.runtime.pool.query('SELECT id, url, event_types AS "eventTypes", description, active, created_at AS "createdAt" FROM webhook_subscriptions ORDER BY created_at');
    return { subscriptions: r.rows };
  }

  @Delete('subscriptions/:id')
  @ApiOperation({ summary: "Unsubscribe: the subscription stops receiving; its pending deliveries become 'cancelled' (not sent); its delivery log stays." })
  async unsubscribe(@Param('id', new IdParam('id')) id: string) {
    const r = await this.runtime.pool.query(
      `WITH s AS (UPDATE webhook_subscriptions SET active = false WHERE id = $1 RETURNING id),
            d AS (UPDATE webhook_deliveries SET status = 'cancelled', last_error = 'unsubscribed', claimed_until = NULL
                   WHERE subscription_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM s) RETURNING id)
       SELECT (SELECT count(*) FROM s)::int AS found, (SELECT count(*) FROM d)::int AS cancelled`,
      [id],
    );
    if (r.rows[0]?.found !== 1) throw notFound('subscription', id);
    return { id, active: false, cancelledDeliveries: r.rows[0].cancelled as number };
  }

  @Post('subscriptions/:id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new secret; deliveries carry signatures of both for 24 h, so the subscriber can switch without losing one.' })
  async rotate(@Param('id', new IdParam('id')) id: string) {
    const secret = newWebhookSecret();
    const r = await this.runtime.pool.query(
      "UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = now() + interval '24 hours', secret = $2 WHERE id = $1",
      [id, secret],
    );
    if (r.rowCount !== 1) throw notFound('subscription', id);
    return { id, secret };
  }

  private async deliveries(where: string, value: string) {
    const r = await this.runtime.pool.query(
      `SELECT id, subscription_id AS "subscriptionId", order_id AS "orderId", event_id AS "eventId", event_type AS "eventType", status, attempts,
              last_status AS "lastStatus", last_error AS "lastError", next_attempt_at AS "nextAttemptAt", delivered_at AS "deliveredAt", created_at AS "createdAt"
         FROM webhook_deliveries WHERE ${where} = $1 ORDER BY seq LIMIT 500`,
      [value],
    );
    return { deliveries: r.rows };
  }

  @Get('subscriptions/:id/deliveries')
  @ApiOperation({ summary: 'Delivery log of a subscription (oldest first).' })
  bySubscription(@Param('id', new IdParam('id')) id: string) {
    return this.deliveries('subscription_id', id);
  }

  @Get('orders/:orderId/deliveries')
  @ApiOperation({ summary: 'Delivery log of an order across subscriptions.' })
  byOrder(@Param('orderId', new IdParam('orderId')) orderId: string) {
    return this.deliveries('order_id', orderId);
  }

  @Get('deliveries/:id')
  async delivery(@Param('id', new IdParam('id')) id: string) {
    const d = await this.deliveries('id', id);
    if (!d.deliveries[0]) throw notFound('delivery', id);
    const attempts = await this.runtime.pool.query('SELECT attempt, at, status_code AS "statusCode", error, duration_ms AS "durationMs" FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt', [id]);
    return { ...d.deliveries[0], attemptLog: attempts.rows };
  }

  @Post('deliveries/:id/redeliver')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a delivery again now (also one given up after 24 h or already delivered).' })
  async redeliver(@Param('id', new IdParam('id')) id: string) {
    const r = await this.runtime.pool.query("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), claimed_until = NULL WHERE id = $1", [id]);
    if (r.rowCount !== 1) throw notFound('delivery', id);
    return this.delivery(id);
  }
}
