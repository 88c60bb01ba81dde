import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '@flowline/platform';
import type { Principal } from '@flowline/auth';
import { context } from './orders.grpc-controller';

const meta = (kind: string) => ({ requestId: 'k1', correlationId: '', actor: { kind, id: 'u-1', role: 'customer_service', name: '王芳' } });
const staff: Principal = { subject: 'cs', roles: ['customer_service'], shops: ['*'], clientId: 'flowline-console', name: '客服 王芳', issuer: 'http://issuer' };
const buyer: Principal = { subject: 'c-9', roles: ['customer'], shops: ['*'], clientId: 'portal', name: '王芳', orders: ['o-1'], issuer: 'http://portal' };

describe('gRPC command meta', () => {
  it('takes the actor from the verified token, never from meta.actor (issue #16)', () => {
    expect(context(meta('user'), staff, true).actor).toEqual({ kind: 'user', id: 'cs', role: 'customer_service', name: '客服 王芳', clientId: 'flowline-console' });
    expect(context(meta(''), staff, true).actor?.id).toBe('cs');
  });

  it("masks a buyer's name (the actor travels on every published event)", () => {
    expect(context(meta('customer'), buyer, true).actor).toEqual({ kind: 'customer', id: 'c-9', role: 'customer', name: '王*', clientId: 'portal' });
  });

  it('refuses an unknown actor kind naming meta.actor.kind, instead of storing an event no consumer can read', () => {
    let error: unknown;
    try {
      context(meta('admin'), staff, true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestValidationError);
    expect((error as RequestValidationError).violations).toEqual([expect.objectContaining({ field: 'meta.actor.kind', constraint: 'isIn' })]);
  });
});
