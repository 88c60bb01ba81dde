import type { OrderEventDataMap, OrderSubmission } from '@flowline/contracts';
import { fold } from '@flowline/domain';
import { deciderSpec } from '@flowline/testing';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { ORDER_ID, SUBMISSION, T, validCommand } from '../../test/support/order.fixtures';
import { PlaceOrderDto } from '../api/http/dto/place-order.dto';
import { toSubmission } from '../api/http/dto/place-order.mapper';
import { toIntegrationEvent } from '../application/order-relay.routes';
import { toOrderView } from '../application/order-view';
import { orderDecider } from './order.decider';
import type { OrderEvent } from './order.events';
import type { ExistingOrder } from './order.state';

const toOrderPlacedData = (e: OrderEvent) => toIntegrationEvent(e) as OrderEventDataMap['OrderPlaced'];
import { computeTotals } from './order.model';

const spec = deciderSpec(orderDecider);

/** A Douyin order: name and address encrypted (empty here), phone shown masked, an oaid to print with. */
const PROTECTED: OrderSubmission = {
  ...SUBMISSION,
  shippingAddress: { ...SUBMISSION.shippingAddress, street: '', detail: '', recipient: '', phone: '1******6198' },
  recipientProtection: { masked: ['phone'], encrypted: ['name', 'address'], withheld: [], oaid: 'oaid_7f3a' },
};
const place = (order: OrderSubmission) => ({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order } });

describe('PlaceOrder with a recipient the platform hid (recipientProtection)', () => {
  it('places the order with the masked / empty fields and keeps the protection on OrderPlaced', () => {
    spec
      .given([])
      .when(place(PROTECTED))
      .then([{ type: 'OrderPlaced', data: { orderId: ORDER_ID, order: { ...PROTECTED, orderId: ORDER_ID, totals: computeTotals(PROTECTED) }, placedAt: PROTECTED.placedAt, receivedAt: T } }]);
  });

  it('still refuses an empty clear field: only the listed fields may be hidden', () => {
    const order = { ...PROTECTED, recipientProtection: { masked: ['phone' as const], encrypted: ['name' as const], withheld: [] } };
    spec.given([]).when(place(order)).thenThrows({ code: 'ORDER_INVALID', details: { field: 'shippingAddress.street' } });
  });

  it.each([
    ['recipientProtection.encrypted', { masked: ['phone'], encrypted: ['phone'], withheld: [] }, 'phone is listed twice'],
    ['recipientProtection.withheld', { masked: [], encrypted: [], withheld: ['email'] }, 'unknown recipient field email'],
    ['recipientProtection', { masked: [], encrypted: [], withheld: [] }, 'names no hidden field and no oaid'],
    ['recipientProtection.oaid', { masked: ['name'], encrypted: [], withheld: [], oaid: '' }, 'must be 1-200 characters'],
  ])('refuses a malformed protection naming %s', (field, protection, reason) => {
    const order = { ...SUBMISSION, recipientProtection: protection } as unknown as OrderSubmission;
    spec.given([]).when(place(order)).thenThrows({ code: 'ORDER_INVALID', details: { field, reason } });
  });

  it('publishes the protection on the OrderPlaced integration event and shows it on the order view', () => {
    const order = { ...PROTECTED, orderId: ORDER_ID, totals: computeTotals(PROTECTED) };
    const placed: OrderEvent = { type: 'OrderPlaced', data: { orderId: ORDER_ID, order, placedAt: PROTECTED.placedAt, receivedAt: T } };
    const data = toOrderPlacedData(placed);
    expect(data.recipientProtection).toEqual({ masked: ['phone'], encrypted: ['name', 'address'], withheld: [], oaid: 'oaid_7f3a' });
    expect(data.shippingAddress.recipientMasked).toBe('');
    const view = toOrderView(fold(orderDecider, [placed]) as ExistingOrder, 1, T);
    expect(view.recipientProtection?.oaid).toBe('oaid_7f3a');
    // An order without protection carries none.
    const plain: OrderEvent = { type: 'OrderPlaced', data: { orderId: ORDER_ID, order: { ...SUBMISSION, orderId: ORDER_ID, totals: computeTotals(SUBMISSION) }, placedAt: SUBMISSION.placedAt, receivedAt: T } };
    expect('recipientProtection' in toOrderPlacedData(plain)).toBe(false);
  });
});

describe('PlaceOrderDto: hidden recipient fields over REST / gRPC', () => {
  const body = (over: Record<string, unknown>) => ({
    channel: 'douyin',
    channelOrderId: '6920000000000000001',
    shopId: 'dy-1',
    customer: {},
    shippingAddress: { province: '江苏省', city: '南京市', district: '建邺区', street: '沙洲街道****', recipient: '张*', phone: '1******6198' },
    lines: [{ sku: 'TEA-1', title: '茶', quantity: 1, unitPrice: 100 }],
    ...over,
  });
  const fieldsOf = async (plain: object) => {
    const errors = await validate(plainToInstance(PlaceOrderDto, plain), { whitelist: true, forbidNonWhitelisted: true });
    return errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}${e.children?.length ? ' (children)' : ''}`);
  };

  it('refuses masked values when no protection is declared, naming each field', async () => {
    const problems = await fieldsOf(body({}));
    expect(problems).toEqual(['shippingAddress: shippingAddress.phone must be digits (unless recipientProtection lists the field)']);
  });

  it('accepts them when the protection lists the fields, and maps the protection into the submission', async () => {
    const plain = body({ recipientProtection: { masked: ['name', 'phone', 'address'], oaid: 'oaid_1' } });
    expect(await fieldsOf(plain)).toEqual([]);
    const sub = toSubmission(plainToInstance(PlaceOrderDto, plain), T);
    expect(sub.recipientProtection).toEqual({ masked: ['name', 'phone', 'address'], encrypted: [], withheld: [], oaid: 'oaid_1' });
    expect(sub.shippingAddress.phone).toBe('1******6198');
  });

  it('refuses an unknown field name in a list and an empty clear recipient', async () => {
    const problems = await fieldsOf(body({ shippingAddress: { province: '江苏省', city: '南京市', district: '建邺区', street: '沙洲街道1号', recipient: '', phone: '13812345678' }, recipientProtection: { encrypted: ['email'] } }));
    expect(problems).toEqual([
      'shippingAddress: shippingAddress.recipient must be 1-100 characters (unless recipientProtection lists the field)',
      'recipientProtection:  (children)',
    ]);
  });
});
