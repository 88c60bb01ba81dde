import 'reflect-metadata';
import { type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { ForCustomers, principalOf, Public, Requires } from './decorators';
import { AuthGuard } from './guard';
import type { Principal, Role } from './principal';
import type { TokenVerifier } from './verifier';

const as = (roles: Role[], extra: Partial<Principal> = {}): Principal => ({ subject: 'u-1', roles, shops: ['*'], issuer: 'http://issuer', ...extra });

/** A guard whose verifier answers `principal` for the token `good`. */
function guardFor(principal: Principal): AuthGuard {
  const verifier = {
    config: { audience: 'flowline' },
    verify: async (token: string) => {
      if (token !== 'good') throw new Error('bad token');
      return principal;
    },
  } as unknown as TokenVerifier;
  return new AuthGuard(new Reflector(), verifier);
}

/** An HTTP execution context of `handler` (decorated by hand, as on a controller method). */
function httpContext(handler: () => void, headers: Record<string, string> = { authorization: 'Bearer good' }) {
  const request = { headers };
  class Controller {}
  const ctx = {
    getHandler: () => handler,
    getClass: () => Controller,
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({ header: () => undefined }) }),
  } as unknown as ExecutionContext;
  return { ctx, request };
}

/** A handler carrying the given decorators. */
function handler(...decorators: ((target: object) => unknown)[]): () => void {
  const fn = function handlerUnderTest() {};
  for (const d of decorators) d(fn);
  return fn;
}

const buyer = as(['customer'], { orders: ['o-1'] });

describe('AuthGuard: customer-only tokens reach only the handlers that serve buyers', () => {
  it('refuses a customer token on a handler its conditional ability would pass, unless the handler is marked @ForCustomers', async () => {
    const staffView = handler(Requires('read', 'Order'));
    await expect(guardFor(buyer).canActivate(httpContext(staffView).ctx)).rejects.toBeInstanceOf(ForbiddenException);

    const portalRead = handler(Requires('read', 'Order'), ForCustomers());
    const { ctx, request } = httpContext(portalRead);
    await expect(guardFor(buyer).canActivate(ctx)).resolves.toBe(true);
    expect(principalOf(request)).toBe(buyer);
  });

  it('still applies the ability check on a @ForCustomers handler (a customer cannot approve there)', async () => {
    const approve = handler(Requires('approve', 'Approval'), ForCustomers());
    await expect(guardFor(buyer).canActivate(httpContext(approve).ctx)).rejects.toMatchObject({ response: { code: 'FORBIDDEN', details: { required: 'approve Approval' } } });
  });

  it("leaves staff tokens to the ability check alone; a staff token that also says customer gets no buyer rules", async () => {
    const staffView = handler(Requires('read', 'Order'));
    await expect(guardFor(as(['customer_service'])).canActivate(httpContext(staffView).ctx)).resolves.toBe(true);
    await expect(guardFor(as(['customer', 'customer_service'])).canActivate(httpContext(staffView).ctx)).resolves.toBe(true);
    // Sales cannot read shipments (recipients, labels): `customer` beside it must not open them.
    const parcels = handler(Requires('read', 'Shipment'));
    await expect(guardFor(as(['sales', 'customer'], { orders: ['o-1'] })).canActivate(httpContext(parcels).ctx)).rejects.toBeInstanceOf(ForbiddenException);
    await expect(guardFor(as(['sales'])).canActivate(httpContext(parcels).ctx)).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('names why the customer was refused, and still answers 401 before any of it without a token', async () => {
    const staffView = handler(Requires('read', 'Order'));
    await expect(guardFor(buyer).canActivate(httpContext(staffView).ctx)).rejects.toMatchObject({ response: { code: 'FORBIDDEN', message: expect.stringContaining('its own orders only') } });
    await expect(guardFor(buyer).canActivate(httpContext(staffView, {}).ctx)).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(guardFor(buyer).canActivate(httpContext(handler(Public()), {}).ctx)).resolves.toBe(true);
  });
});
