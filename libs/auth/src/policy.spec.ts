import { describe, expect, it } from 'vitest';
import { abilityFor, can, canOn, canReadField, redactFields } from './policy';
import { actorFromPrincipal, principalFromClaims, type Principal, type Role } from './principal';
import { filterInScope, inScope, shopFilter } from './scope';

const as = (roles: Role[], extra: Partial<Principal> = {}): Principal => ({ subject: 'u-1', roles, shops: ['*'], issuer: 'http://issuer', ...extra });

describe('role abilities (one policy for REST and gRPC)', () => {
  it('a warehouse token cannot refund, but packs and ships', () => {
    expect(can(as(['warehouse']), 'refund', 'Order')).toBe(false);
    expect(can(as(['warehouse']), 'ship', 'Shipment')).toBe(true);
    expect(can(as(['warehouse']), 'pack', 'Order')).toBe(true);
  });

  it('only customer service and admin may reveal an order\'s personal data (audited); warehouse, finance, GM, customers may not', () => {
    expect(can(as(['customer_service']), 'reveal', 'Order')).toBe(true);
    expect(can(as(['admin']), 'reveal', 'Order')).toBe(true);
    for (const role of ['warehouse', 'finance', 'general_manager', 'sales', 'integration', 'customer'] as Role[]) expect(can(as([role]), 'reveal', 'Order'), role).toBe(false);
  });

  it('a customer-service token cannot adjust stock; admin can', () => {
    expect(can(as(['customer_service']), 'adjust', 'Stock')).toBe(false);
    expect(can(as(['admin']), 'adjust', 'Stock')).toBe(true);
  });

  it('a customer cannot approve, ship, adjust or administer', () => {
    const c = as(['customer'], { orders: ['o-1'] });
    for (const [action, subject] of [['approve', 'Approval'], ['ship', 'Shipment'], ['adjust', 'Stock'], ['admin', 'Admin']] as const) {
      expect(can(c, action, subject), `${action} ${subject}`).toBe(false);
    }
  });

  it("a customer reads and cancels only the orders in the token", () => {
    const c = as(['customer'], { orders: ['o-1'] });
    expect(canOn(c, 'read', 'Order', { orderId: 'o-1' })).toBe(true);
    expect(canOn(c, 'read', 'Order', { orderId: 'o-2' })).toBe(false);
    expect(canOn(c, 'cancel', 'Order', { orderId: 'o-2' })).toBe(false);
  });

  it('only admin may use admin endpoints (rebuild, repair, DLQ redrive)', () => {
    for (const role of ['customer_service', 'warehouse', 'finance', 'general_manager', 'integration'] as Role[]) expect(can(as([role]), 'admin', 'Admin'), role).toBe(false);
    expect(can(as(['admin']), 'admin', 'Admin')).toBe(true);
  });

  it('roles add up: finance + warehouse may refund and ship', () => {
    const ability = abilityFor(as(['finance', 'warehouse']));
    expect(ability.can('refund', 'Order')).toBe(true);
    expect(ability.can('ship', 'Shipment')).toBe(true);
  });

  it('field rules: warehouse sees lines and address but not payments; finance sees the money', () => {
    const view = { orderId: 'o-1', lines: [], shippingAddress: {}, payments: [{ amount: 100 }], refunds: [] };
    expect(Object.keys(redactFields(as(['warehouse']), 'Order', view)).sort()).toEqual(['lines', 'orderId', 'shippingAddress']);
    expect(redactFields(as(['finance']), 'Order', view)).toEqual(view);
    expect(canReadField(as(['warehouse']), 'Order', 'payments')).toBe(false);
    expect(canReadField(as(['finance']), 'Order', 'payments')).toBe(true);
  });

  it("field rules name order-intake's and tracking's payment fields as they are spelled (payment, paidAmount): warehouse saw the amount and payment reference; it keeps the refund asked for (do not pack)", () => {
    const view = { orderId: 'o-1', totals: { grandTotal: 64500 }, payment: { amount: 64500, paymentRef: 'P-1' }, refund: { pending: null, refundedTotal: 0 }, paidAmount: 64500, refundedAmount: 0 };
    expect(Object.keys(redactFields(as(['warehouse']), 'Order', view)).sort()).toEqual(['orderId', 'refund', 'totals']);
    expect(redactFields(as(['customer_service']), 'Order', view)).toEqual(view);
  });
});

describe('data scoping by shop', () => {
  const jd = as(['customer_service'], { shops: ['jd-flagship'] });
  it('a JD-scoped user sees JD rows only; a foreign shop asked for yields nothing', () => {
    expect(inScope(jd, { shopId: 'jd-flagship' })).toBe(true);
    expect(inScope(jd, { shopId: 'tmall-flagship' })).toBe(false);
    expect(shopFilter(jd)).toEqual(['jd-flagship']);
    expect(shopFilter(jd, 'tmall-flagship')).toEqual([]);
    expect(filterInScope(jd, [{ shopId: 'jd-flagship' }, { shopId: 'tmall-flagship' }])).toEqual([{ shopId: 'jd-flagship' }]);
  });
  it('all shops: no filter', () => {
    expect(shopFilter(as(['finance']))).toBeUndefined();
    expect(shopFilter(as(['finance']), 'x')).toEqual(['x']);
  });
});

describe('principal and actor', () => {
  it('reads the contract claims; shops absent = all', () => {
    const p = principalFromClaims({ sub: 'cs', roles: ['customer_service', 'nonsense'], client_id: 'flowline-console', name: '王芳', iss: 'http://i' });
    // Unknown role strings grant nothing; they are kept in allRoles (organisation roles for approval chains).
    expect(p).toEqual({ subject: 'cs', roles: ['customer_service'], shops: ['*'], clientId: 'flowline-console', name: '王芳', issuer: 'http://i', allRoles: ['customer_service', 'nonsense'] });
  });
  it('the actor is the token subject; a client-credentials token is a service', () => {
    expect(actorFromPrincipal(as(['warehouse'], { subject: 'warehouse', clientId: 'flowline-console' }))).toEqual({ kind: 'user', id: 'warehouse', role: 'warehouse', clientId: 'flowline-console' });
    expect(actorFromPrincipal(as(['integration'], { subject: 'svc-channel-gateway', clientId: 'svc-channel-gateway' }))).toMatchObject({ kind: 'service', id: 'svc-channel-gateway' });
    expect(actorFromPrincipal(as(['customer'], { subject: 'c-1' }))).toMatchObject({ kind: 'customer', id: 'c-1', role: 'customer' });
  });
});
