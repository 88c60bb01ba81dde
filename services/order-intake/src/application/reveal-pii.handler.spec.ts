import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { anOrderSubmission, commandMetadata } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { orderStreamId } from '../domain/order.events';
import { parseRuleSet } from '../domain/rules/rule-set.parser';
import { InMemoryOrderStore } from '../infra/in-memory-order-store';
import { ChangeOrderHandler } from './change-order.handler';
import { PlaceOrderHandler } from './place-order.handler';
import { RevealPiiHandler } from './reveal-pii.handler';
import { fixedRuleSet } from './rule-set.source';

const rules = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../../rules/default.rules.yaml'), 'utf8')));
const NOW = '2025-11-25T08:00:00.000Z';
const actor = { kind: 'user' as const, id: 'cs', role: 'customer_service', clientId: 'flowline-console' };

async function setup() {
  const store = new InMemoryOrderStore();
  const orderId = '01JDGZ6M3V8Q000000000REVEAL';
  const submission = anOrderSubmission({ channel: 'jd', shopId: 'jd-flagship', channelOrderId: 'JD-REVEAL-1' });
  await new PlaceOrderHandler(store, rules).execute({ type: 'PlaceOrder', data: { orderId, order: submission }, metadata: commandMetadata({ now: NOW }) });
  return { store, orderId, submission, reveals: new RevealPiiHandler(store), changes: new ChangeOrderHandler(store, rules) };
}

describe('RevealPiiHandler (audited PII reveal)', () => {
  it('answers the asked fields in clear and records OrderPiiRevealed with the actor, the field names and the reason, never a value', async () => {
    const { store, orderId, submission, reveals } = await setup();
    const stateBefore = (await store.load(orderId)).state;
    const r = await reveals.execute({ orderId, fields: ['customer.phone'], reason: '顾客来电', metadata: commandMetadata({ now: NOW, actor }) });
    expect(r).toMatchObject({ orderId, fields: ['customer.phone'], customer: { phone: submission.customer.phone }, shippingAddress: {}, revision: 1, revealedAt: NOW });
    expect(r.customer.name).toBeUndefined();
    const recorded = (await store.events.readStream(orderStreamId(orderId))).at(-1);
    expect(recorded).toMatchObject({ type: 'OrderPiiRevealed', data: { orderId, fields: ['customer.phone'], reason: '顾客来电', revealedAt: NOW }, metadata: { actor } });
    expect(JSON.stringify(recorded?.data)).not.toContain(String(submission.customer.phone));
    // The order's state is unchanged: the next command decides on the same order.
    expect((await store.load(orderId)).state).toEqual(stateBefore);
  });

  it('no fields asked = every PII field, in the contract order', async () => {
    const { orderId, submission, reveals } = await setup();
    const r = await reveals.execute({ orderId, fields: [], reason: '核对地址', metadata: commandMetadata({ now: NOW, actor }) });
    expect(r.fields).toEqual(['customer.name', 'customer.phone', 'shippingAddress.recipient', 'shippingAddress.phone', 'shippingAddress.street']);
    expect(r.shippingAddress).toMatchObject({ recipient: submission.shippingAddress.recipient, phone: submission.shippingAddress.phone, street: submission.shippingAddress.street });
  });

  it('out of the caller scope (or unknown): ORDER_NOT_FOUND and nothing recorded', async () => {
    const { store, orderId, reveals } = await setup();
    const before = (await store.load(orderId)).revision;
    await expect(reveals.execute({ orderId, fields: [], reason: 'x', metadata: commandMetadata({ now: NOW, actor }), scope: (o) => o.shopId === 'taobao-xihu-tea-house' })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    await expect(reveals.execute({ orderId: '01JDGZ6M3V8Q00000000UNKNOWN', fields: [], reason: 'x', metadata: commandMetadata({ now: NOW, actor }) })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect((await store.load(orderId)).revision).toBe(before);
  });

  it('a hold on the same order is still decided normally after reveals (the audit fact changes no state)', async () => {
    const { orderId, reveals, changes } = await setup();
    await reveals.execute({ orderId, fields: [], reason: 'a', metadata: commandMetadata({ now: NOW, actor }) });
    const held = await changes.execute({ type: 'PlaceHold', data: { orderId, reason: 'check' }, metadata: commandMetadata({ now: NOW, actor }) });
    expect(held).toMatchObject({ revision: 2, replayed: false });
    expect(held.state.hold?.reason).toBe('check');
  });
});
