import { Public } from '@flowline/auth';
import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DomainError } from '@flowline/domain';
import type { FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { WorkOrderStatus } from '../../domain/order-fulfillment.decider';
import { rawBodyOf } from '../../infra/raw-body.hook';
import { FulfillmentRuntime } from '../../infra/fulfillment-runtime';

const STATUSES: readonly WorkOrderStatus[] = ['created', 'in_production', 'completed', 'problem'];

/**
 * The factory's MES reports work-order progress, signed per Standard Webhooks with the secret
 * both sides share (MES_CALLBACK_SECRET): a bad or stale signature is refused (400) and changes
 * nothing. Progress is recorded on the order (WorkOrderProgressed, on its timeline); `completed`
 * releases parcels of made-to-order lines to the pick list.
 */
@ApiExcludeController()
@Public()
@Controller('api/fulfillment/callbacks/mes')
export class MesCallbacksController {
  constructor(private readonly runtime: FulfillmentRuntime) {}

  @Post()
  @HttpCode(200)
  async progress(@Req() req: FastifyRequest, @Body() body: Record<string, unknown>, @Headers() headers: Record<string, string>) {
    const secret = this.runtime.settings.mesCallbackSecret;
    if (!secret) throw new DomainError('MES_NOT_CONFIGURED', 'MES callbacks are not configured (MES_CALLBACK_SECRET)', {}, 'conflict');
    const raw = rawBodyOf(req);
    try {
      if (raw === undefined) throw new Error('no raw body');
      new Webhook(secret).verify(raw, { 'webhook-id': headers['webhook-id'] ?? '', 'webhook-timestamp': headers['webhook-timestamp'] ?? '', 'webhook-signature': headers['webhook-signature'] ?? '' });
    } catch (e) {
      throw new DomainError('CARRIER_SIGNATURE_INVALID', `MES callback refused: ${(e as Error).message}`, { field: 'webhook-signature' }, 'invalid');
    }
    const { workOrderId, orderId, status, percent, message, at } = body as { workOrderId?: unknown; orderId?: unknown; status?: unknown; percent?: unknown; message?: unknown; at?: unknown };
    const bad = (field: string, why: string) => new DomainError('VALIDATION_FAILED', `${field} ${why}`, { field }, 'invalid');
    if (typeof workOrderId !== 'string' || !workOrderId) throw bad('workOrderId', 'is required');
    if (typeof orderId !== 'string' || !orderId) throw bad('orderId', 'is required');
    if (typeof status !== 'string' || !STATUSES.includes(status as WorkOrderStatus)) throw bad('status', `must be one of ${STATUSES.join(', ')}`);
    if (percent !== undefined && (typeof percent !== 'number' || percent < 0 || percent > 100)) throw bad('percent', 'must be 0-100');
    if (message !== undefined && typeof message !== 'string') throw bad('message', 'must be text');
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw bad('at', 'must be an ISO time');
    const out = await this.runtime.handler.execute(
      orderId,
      {
        type: 'RecordWorkOrderProgress',
        orderId,
        workOrderId,
        status: status as WorkOrderStatus,
        ...(percent !== undefined ? { percent } : {}),
        ...(message ? { message } : {}),
        at: new Date(at).toISOString(),
      },
      this.runtime.meta({ actor: { kind: 'channel', id: 'mes', name: 'MES' } }),
    );
    return { ok: true, recorded: out.events.length > 0 };
  }
}
