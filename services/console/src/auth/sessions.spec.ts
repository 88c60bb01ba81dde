import { describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie } from './cookies';
import { pkcePair, s256 } from './pkce';
import { needsRefresh, safeReturnTo, SessionStore } from './sessions';

const user = { subject: 'cs-wang', roles: ['customer_service'], shops: ['*'] };

describe('the BFF keeps tokens server-side behind an opaque cookie', () => {
  it('a login state is used once and lapses after its lifetime', () => {
    let now = 1_000;
    const store = new SessionStore({ maxSessions: 10, maxPending: 10, pendingTtlMs: 600_000, absoluteTtlMs: 3_600_000 }, () => now);
    const a = store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/orders', redirectUri: 'http://c/api/console/callback' });
    expect(store.takeLogin(a.state)).toMatchObject({ verifier: 'v', returnTo: '/orders' });
    expect(store.takeLogin(a.state)).toBeUndefined();
    const b = store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    now += 600_001;
    expect(store.takeLogin(b.state)).toBeUndefined();
  });

  it('unauthenticated login starts are bounded: the oldest pending login is dropped', () => {
    const store = new SessionStore({ maxSessions: 10, maxPending: 2, pendingTtlMs: 600_000, absoluteTtlMs: 3_600_000 });
    const first = store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    const third = store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    expect(store.takeLogin(first.state)).toBeUndefined();
    expect(store.takeLogin(third.state)).toBeDefined();
  });

  it('a staff session id is not a customer session id, ends at logout and at its absolute lifetime', () => {
    let now = 0;
    const store = new SessionStore({ maxSessions: 10, maxPending: 10, pendingTtlMs: 1, absoluteTtlMs: 1_000 }, () => now);
    const s = store.create('staff', user, { accessToken: 'at', refreshToken: 'rt', expiresAt: 500 });
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.get(s.id, 'customer')).toBeUndefined();
    expect(store.get(s.id, 'staff')?.user.subject).toBe('cs-wang');
    now = 1_001;
    expect(store.get(s.id, 'staff')).toBeUndefined();
    const t = store.create('staff', user, { accessToken: 'at', expiresAt: 5_000 });
    store.destroy(t.id);
    expect(store.get(t.id, 'staff')).toBeUndefined();
  });

  it('refreshes a minute before the access token expires', () => {
    expect(needsRefresh({ accessToken: 'a', expiresAt: 100_000 }, 39_999)).toBe(false);
    expect(needsRefresh({ accessToken: 'a', expiresAt: 100_000 }, 40_000)).toBe(true);
  });

  it('comes back only to a local page after login (no open redirect)', () => {
    expect(safeReturnTo('/orders/o-1?x=1')).toBe('/orders/o-1?x=1');
    for (const bad of ['https://evil.example/', '//evil.example', '/\\evil.example', 'orders', '/api/console/logout', '/a\r\nSet-Cookie: x', undefined, 42]) expect(safeReturnTo(bad)).toBe('/');
  });

  it('PKCE: the challenge is the base64url SHA-256 of the verifier (RFC 7636 appendix B)', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const p = pkcePair();
    expect(p.verifier.length).toBeGreaterThanOrEqual(43);
    expect(p.challenge).toBe(s256(p.verifier));
  });

  it('cookies: httpOnly always, SameSite as asked, Secure on https, Max-Age 0 deletes', () => {
    expect(serializeCookie('flowline_sid', 'abc', { sameSite: 'Strict', secure: false, maxAgeSeconds: 60 })).toBe('flowline_sid=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(serializeCookie('flowline_sid', '', { sameSite: 'Strict', secure: true, maxAgeSeconds: 0 })).toBe('flowline_sid=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
    expect(parseCookies('a=1; flowline_sid=x%2By; a=2')).toEqual({ a: '1', flowline_sid: 'x+y' });
    expect(parseCookies(undefined)).toEqual({});
  });
});
