import { describe, expect, it } from 'vitest';
import { ConsoleAuth, PORTAL_HEADER, STAFF_COOKIE } from './console-auth';
import type { OidcClient } from './oidc-client';
import { SessionStore, type TokenSet } from './sessions';

const user = { subject: 'cs', roles: ['customer_service'], shops: ['*'] };

/** The refresh call of the OIDC client, scripted (the real one is driven by login.e2e-spec against the issuer). */
function scriptedOidc(answer: () => Promise<TokenSet>) {
  let calls = 0;
  const oidc = {
    refresh: async () => {
      calls++;
      return { tokens: await answer(), user };
    },
  } as unknown as OidcClient;
  return { oidc, calls: () => calls };
}

const setup = (now: { t: number }, answer: () => Promise<TokenSet>) => {
  const store = new SessionStore({ maxSessions: 10, maxPending: 10, pendingTtlMs: 60_000, absoluteTtlMs: 12 * 3_600_000 }, () => now.t);
  const o = scriptedOidc(answer);
  const auth = new ConsoleAuth(store, o.oidc, false, () => now.t);
  return { store, auth, calls: o.calls };
};

describe('the BFF refreshes the access token before it expires', () => {
  it('a token with more than a minute left is forwarded as is', async () => {
    const now = { t: 0 };
    const { store, auth, calls } = setup(now, async () => ({ accessToken: 'new', expiresAt: 0 }));
    const s = await store.create('staff', user, { accessToken: 'at1', refreshToken: 'rt1', expiresAt: 300_000 });
    expect(await auth.bearerFor({ cookie: `${STAFF_COOKIE}=${s.id}` })).toBe('at1');
    expect(calls()).toBe(0);
  });

  it('within a minute of expiry it refreshes once, even for calls arriving together', async () => {
    const now = { t: 250_000 };
    const { store, auth, calls } = setup(now, async () => ({ accessToken: 'at2', refreshToken: 'rt2', expiresAt: 250_000 + 3_600_000 }));
    const s = await store.create('staff', user, { accessToken: 'at1', refreshToken: 'rt1', expiresAt: 300_000 });
    const headers = { cookie: `${STAFF_COOKIE}=${s.id}` };
    expect(await Promise.all([auth.bearerFor(headers), auth.bearerFor(headers), auth.bearerFor(headers)])).toEqual(['at2', 'at2', 'at2']);
    expect(calls()).toBe(1);
    expect((await store.get(s.id, 'staff'))?.tokens.refreshToken).toBe('rt2');
  });

  it('a refused refresh (revoked, expired) ends the session: no token goes upstream, the user logs in again', async () => {
    const now = { t: 290_000 };
    const { store, auth } = setup(now, () => Promise.reject(new Error('invalid_grant')));
    const s = await store.create('staff', user, { accessToken: 'at1', refreshToken: 'rt1', expiresAt: 300_000 });
    expect(await auth.bearerFor({ cookie: `${STAFF_COOKIE}=${s.id}` })).toBeUndefined();
    expect(await store.get(s.id, 'staff')).toBeUndefined();
  });

  it('without a refresh token the session lasts until the access token expires', async () => {
    const now = { t: 290_000 };
    const { store, auth } = setup(now, async () => ({ accessToken: 'x', expiresAt: 0 }));
    const s = await store.create('staff', user, { accessToken: 'at1', expiresAt: 300_000 });
    expect(await auth.bearerFor({ cookie: `${STAFF_COOKIE}=${s.id}` })).toBe('at1');
    now.t = 300_001;
    expect(await auth.bearerFor({ cookie: `${STAFF_COOKIE}=${s.id}` })).toBeUndefined();
  });

  it("the portal's calls carry the customer's token, never the staff one, and staff calls never the customer's", async () => {
    const now = { t: 0 };
    const { store, auth } = setup(now, async () => ({ accessToken: 'x', expiresAt: 0 }));
    const staff = await store.create('staff', user, { accessToken: 'staff-at', expiresAt: 3_600_000 });
    const customer = await store.create('customer', { subject: 'c-1', roles: ['customer'], shops: ['*'], orders: ['o-1'] }, { accessToken: 'cust-at', expiresAt: 900_000 });
    const cookie = `${STAFF_COOKIE}=${staff.id}; flowline_portal=${customer.id}`;
    expect(await auth.bearerFor({ cookie })).toBe('staff-at');
    expect(await auth.bearerFor({ cookie, [PORTAL_HEADER]: '1' })).toBe('cust-at');
    expect(await auth.bearerFor({ cookie: `${STAFF_COOKIE}=${customer.id}` })).toBeUndefined();
    now.t = 900_001;
    expect(await auth.bearerFor({ cookie, [PORTAL_HEADER]: '1' })).toBeUndefined();
  });
});
