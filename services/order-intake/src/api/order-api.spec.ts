import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { anOrderSubmission } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { ChangeOrderHandler } from '../application/change-order.handler';
import { OrderQueries } from '../application/order-queries';
import { PlaceOrderHandler } from '../application/place-order.handler';
import { ReleaseOrderHandler } from '../application/release-order.handler';
import { fixedRuleSet } from '../application/rule-set.source';
import { parseRuleSet } from '../domain/rules/rule-set.parser';
import { InMemoryIdempotencyStore } from '../infra/in-memory-idempotency-store';
import { InMemoryOrderStore } from '../infra/in-memory-order-store';
import { OrderApi } from './order-api';

function api() {
  const store = new InMemoryOrderStore();
  const rules = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../../rules/default.rules.yaml'), 'utf8')));
  const changes = new ChangeOrderHandler(store, rules);
  return new OrderApi(new PlaceOrderHandler(store, rules), changes, new ReleaseOrderHandler(store, changes, rules), new OrderQueries(store), new InMemoryIdempotencyStore());
}

describe('OrderApi idempotency keys', () => {
  it('applies a payment whose Idempotency-Key the client already used to place the order (another operation, not a replay)', async () => {
    const a = api();
    const submission = anOrderSubmission({ channelOrderId: 'C-KEY-REUSE' });
    const placed = await a.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'k-1' }, submission);
    const due = placed.order.totals.grandTotal;
    const paid = await a.change(placed.order.orderId, 'ConfirmPayment', { amount: due, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'k-1' }, { amount: due });
    expect(paid.order.stage).toBe('paid');
    expect((await a.get(placed.order.orderId)).stage).toBe('paid');
  });

  it('still replays the same operation with the same key once', async () => {
    const a = api();
    const submission = anOrderSubmission({ channelOrderId: 'C-KEY-REPLAY' });
    const placed = await a.placeOrder(submission, undefined, { transport: 'rest', idempotencyKey: 'k-2' }, submission);
    const due = placed.order.totals.grandTotal;
    const pay = () => a.change(placed.order.orderId, 'ConfirmPayment', { amount: due, currency: 'CNY' }, { transport: 'rest', idempotencyKey: 'k-pay' }, { amount: due });
    const first = await pay();
    const again = await pay();
    expect(again).toMatchObject({ replayed: true, order: { revision: first.order.revision, stage: 'paid' } });
  });
});
