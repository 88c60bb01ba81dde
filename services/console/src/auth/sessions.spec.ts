import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie } from './cookies';
import { pkcePair, s256 } from './pkce';
import { keyId, sealerFromEnv, TokenSealer } from './session-crypto';
import { needsRefresh, safeReturnTo, SessionStore } from './sessions';

const user = { subject: 'cs-wang', roles: ['customer_service'], shops: ['*'] };

describe('the BFF keeps tokens server-side behind an opaque cookie', () => {
  it('a login state is used once and lapses after its lifetime', async () => {
    let now = 1_000;
    const store = new SessionStore({ maxSessions: 10, maxPending: 10, pendingTtlMs: 600_000, absoluteTtlMs: 3_600_000 }, () => now);
    const a = await store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/orders', redirectUri: 'http://c/api/console/callback' });
    expect(await store.takeLogin(a.state)).toMatchObject({ verifier: 'v', returnTo: '/orders' });
    expect(await store.takeLogin(a.state)).toBeUndefined();
    const b = await store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    now += 600_001;
    expect(await store.takeLogin(b.state)).toBeUndefined();
  });

  it('unauthenticated login starts are bounded: the oldest pending login is dropped', async () => {
    const store = new SessionStore({ maxSessions: 10, maxPending: 2, pendingTtlMs: 600_000, absoluteTtlMs: 3_600_000 });
    const first = await store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    await store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    const third = await store.startLogin({ verifier: 'v', nonce: 'n', returnTo: '/', redirectUri: 'x' });
    expect(await store.takeLogin(first.state)).toBeUndefined();
    expect(await store.takeLogin(third.state)).toBeDefined();
  });

  it('a staff session id is not a customer session id, ends at logout and at its absolute lifetime', async () => {
    let now = 0;
    const store = new SessionStore({ maxSessions: 10, maxPending: 10, pendingTtlMs: 1, absoluteTtlMs: 1_000 }, () => now);
    const s = await store.create('staff', user, { accessToken: 'at', refreshToken: 'rt', expiresAt: 500 });
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.get(s.id, 'customer')).toBeUndefined();
    expect((await store.get(s.id, 'staff'))?.user.subject).toBe('cs-wang');
    now = 1_001;
    expect(await store.get(s.id, 'staff')).toBeUndefined();
    const t = await store.create('staff', user, { accessToken: 'at', expiresAt: 5_000 });
    await store.destroy(t.id);
    expect(await store.get(t.id, 'staff')).toBeUndefined();
  });

  it('refreshes a minute before the access token expires', async () => {
    expect(needsRefresh({ accessToken: 'a', expiresAt: 100_000 }, 39_999)).toBe(false);
    expect(needsRefresh({ accessToken: 'a', expiresAt: 100_000 }, 40_000)).toBe(true);
  });

  it('comes back only to a local page after login (no open redirect)', async () => {
    expect(safeReturnTo('/orders/o-1?x=1')).toBe('/orders/o-1?x=1');
    for (const bad of ['https://evil.example/', '//evil.example', '/\\evil.example', 'orders', '/api/console/logout', '/a\r\nSet-Cookie: x', undefined, 42]) expect(safeReturnTo(bad)).toBe('/');
  });

  it('PKCE: the challenge is the base64url SHA-256 of the verifier (RFC 7636 appendix B)', async () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const p = pkcePair();
    expect(p.verifier.length).toBeGreaterThanOrEqual(43);
    expect(p.challenge).toBe(s256(p.verifier));
  });

  it('cookies: httpOnly always, SameSite as asked, Secure on https, Max-Age 0 deletes', async () => {
    expect(serializeCookie('flowline_sid', 'abc', { sameSite: 'Strict', secure: false, maxAgeSeconds: 60 })).toBe('flowline_sid=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(serializeCookie('flowline_sid', '', { sameSite: 'Strict', secure: true, maxAgeSeconds: 0 })).toBe('flowline_sid=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
    expect(parseCookies('a=1; flowline_sid=x%2By; a=2')).toEqual({ a: '1', flowline_sid: 'x+y' });
    expect(parseCookies(undefined)).toEqual({});
  });
});

describe('session limits and tokens at rest', () => {
  it('an idle session ends after the idle timeout; activity keeps it alive until the absolute lifetime', async () => {
    let now = 0;
    const store = new SessionStore({ maxSessions: 10, maxPending: 10, pendingTtlMs: 1, absoluteTtlMs: 10_000, idleTtlMs: 3_000 }, () => now);
    const s = await store.create('staff', user, { accessToken: 'at', refreshToken: 'rt', expiresAt: 60_000 });
    for (now = 2_000; now <= 8_000; now += 2_000) expect(await store.get(s.id, 'staff')).toBeDefined();
    now = 10_001;
    expect(await store.get(s.id, 'staff')).toBeUndefined();
    const idle = await store.create('staff', user, { accessToken: 'at', refreshToken: 'rt', expiresAt: 60_000 });
    now += 3_001;
    expect(await store.get(idle.id, 'staff')).toBeUndefined();
  });

  it('AES-256-GCM: sealed tokens open with the current or an older key, not with a rotated-out key, not on another row', () => {
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const old = new TokenSealer([k1]);
    const sealed = old.seal('{"accessToken":"eyJ..."}', 'session:a');
    // The plaintext nowhere in clear (a bare 'eyJ' can also occur by chance in ciphertext).
    expect(sealed).not.toContain('accessToken');
    expect(sealed).not.toContain('eyJ...');
    const rotated = new TokenSealer([k2, k1]);
    expect(rotated.open(sealed, 'session:a')).toBe('{"accessToken":"eyJ..."}');
    expect(rotated.seal('x', 'session:a').split('.')[1]).toBe(keyId(k2));
    expect(() => rotated.open(sealed, 'session:b')).toThrow();
    expect(() => new TokenSealer([k2]).open(sealed, 'session:a')).toThrow(/not configured/);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => old.open(tampered, 'session:a')).toThrow();
  });

  it('CONSOLE_SESSION_KEYS: base64 32-byte keys, current first; required in production', () => {
    const k = randomBytes(32).toString('base64');
    expect(sealerFromEnv({ CONSOLE_SESSION_KEYS: `${k}, ${randomBytes(32).toString('base64url')}` }).currentKeyId).toBe(keyId(Buffer.from(k, 'base64')));
    expect(() => sealerFromEnv({ CONSOLE_SESSION_KEYS: 'c2hvcnQ=' })).toThrow(/32/);
    expect(() => sealerFromEnv({ NODE_ENV: 'production' })).toThrow(/required in production/);
    const warnings: string[] = [];
    expect(sealerFromEnv({}, (m) => warnings.push(m))).toBeInstanceOf(TokenSealer);
    expect(warnings[0]).toMatch(/random key/);
  });
});
