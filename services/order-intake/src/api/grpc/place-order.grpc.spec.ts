import { Metadata } from '@grpc/grpc-js';
import { attachPrincipal, type Principal } from '@flowline/auth';
import type { OrderSubmission } from '@flowline/contracts';
import { anOrderSubmission } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import type { OrderApi } from '../order-api';
import { OrdersGrpcController } from './orders.grpc-controller';

/** gRPC PlaceOrder maps designated_carrier and lines[].unit_weight_grams into the canonical order (#12). */
const staff: Principal = { subject: 'cs', roles: ['customer_service'], shops: ['*'], clientId: 'flowline-console', name: '客服', issuer: 'http://issuer' };
const CAPTURED = new Error('captured');

async function submitted(over: Record<string, unknown>, line: Record<string, unknown> = {}): Promise<OrderSubmission> {
  let got: OrderSubmission | undefined;
  const api = { placeOrder: (s: OrderSubmission) => ((got = s), Promise.reject(CAPTURED)) } as unknown as OrderApi;
  const s = anOrderSubmission();
  const req = {
    meta: { requestId: 'k-1', correlationId: '' },
    channel: s.channel,
    channelOrderId: s.channelOrderId,
    shopId: s.shopId,
    customer: { ...s.customer, channelCustomerId: s.customer.channelCustomerId ?? '', nickname: '', name: s.customer.name ?? '', phone: s.customer.phone ?? '', email: '' },
    shippingAddress: { ...s.shippingAddress, postalCode: '' },
    lines: s.lines.map((l) => ({ ...l, category: l.category ?? '', ...line })),
    shippingFee: s.shippingFee,
    orderDiscount: s.orderDiscount,
    currency: s.currency,
    buyerMessage: '',
    sellerRemark: '',
    tags: s.tags,
    attachments: s.attachments,
    placedAt: s.placedAt,
    paymentMethod: '',
    designatedCarrier: '',
    ...over,
  };
  const metadata = new Metadata();
  attachPrincipal(metadata, staff);
  await expect(new OrdersGrpcController(api).placeOrder(req as never, metadata)).rejects.toBe(CAPTURED);
  return got as OrderSubmission;
}

describe('gRPC PlaceOrder: designated carrier and unit weights (#12)', () => {
  it('designated_carrier and unit_weight_grams reach the submission', async () => {
    const s = await submitted({ designatedCarrier: 'JD' }, { unitWeightGrams: 260 });
    expect(s.designatedCarrier).toBe('JD');
    expect(s.lines.map((l) => l.unitWeightGrams)).toEqual(s.lines.map(() => 260));
  });

  it('empty designated_carrier and unset unit_weight_grams are absent', async () => {
    const s = await submitted({});
    expect(s).not.toHaveProperty('designatedCarrier');
    for (const l of s.lines) expect(l).not.toHaveProperty('unitWeightGrams');
  });

  it('a bad carrier code or weight is refused naming the field', async () => {
    const api = {} as OrderApi;
    const metadata = new Metadata();
    attachPrincipal(metadata, staff);
    const s = anOrderSubmission();
    const base = { meta: { requestId: 'k-2' }, ...s, lines: s.lines.map((l) => ({ ...l, unitWeightGrams: 0 })), designatedCarrier: 'sf' };
    await expect(new OrdersGrpcController(api).placeOrder(base as never, metadata)).rejects.toMatchObject({ violations: expect.arrayContaining([expect.objectContaining({ field: 'designatedCarrier' }), expect.objectContaining({ field: 'lines.0.unitWeightGrams' })]) });
  });
});
