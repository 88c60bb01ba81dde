import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '@flowline/platform';
import { context } from './orders.grpc-controller';

const meta = (kind: string) => ({ requestId: 'k1', correlationId: '', actor: { kind, id: 'u-1', role: 'customer_service', name: '王芳' } });

describe('gRPC command meta', () => {
  it('keeps a known actor kind and defaults a blank one to user', () => {
    expect(context(meta('user'), true).actor).toEqual({ kind: 'user', id: 'u-1', role: 'customer_service', name: '王芳' });
    expect(context(meta(''), true).actor?.kind).toBe('user');
  });

  it("masks a buyer's name (the actor travels on every published event)", () => {
    expect(context(meta('customer'), true).actor).toEqual({ kind: 'customer', id: 'u-1', role: 'customer_service', name: '王*' });
  });

  it('refuses an unknown actor kind naming meta.actor.kind, instead of storing an event no consumer can read', () => {
    let error: unknown;
    try {
      context(meta('admin'), true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestValidationError);
    expect((error as RequestValidationError).violations).toEqual([expect.objectContaining({ field: 'meta.actor.kind', constraint: 'isIn' })]);
  });
});
