import { describe, expect, it } from 'vitest';
import { ClientCredentialsTokenSource, serviceFetch } from './token-source';

/** An issuer (discovery, token endpoint) and a service behind one fetch: the service refuses `refused` tokens with 401. */
function world(refused: Set<string>) {
  const calls: { url: string; authorization?: string; hasSignal: boolean }[] = [];
  let issued = 0;
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    if (url.endsWith('/.well-known/openid-configuration')) return Response.json({ token_endpoint: 'http://issuer.test/token' });
    if (url === 'http://issuer.test/token') return Response.json({ access_token: `tok-${++issued}`, expires_in: 300 });
    const authorization = (init?.headers as Record<string, string> | undefined)?.authorization;
    calls.push({ url, ...(authorization ? { authorization } : {}), hasSignal: !!init?.signal });
    return new Response('{}', { status: authorization && refused.has(authorization) ? 401 : 200 });
  }) as typeof fetch;
  const tokens = new ClientCredentialsTokenSource({ issuer: 'http://issuer.test', clientId: 'svc-a', clientSecret: 's' }, Date.now, fetchImpl);
  return { tokens, calls };
}

describe('ClientCredentialsTokenSource.fetch (a call to another service)', () => {
  it('carries the token and keeps the caller headers; a 401 gets one fresh token and one retry, each try with its own timeout', async () => {
    const w = world(new Set(['Bearer tok-1']));
    const res = await w.tokens.fetch('http://svc.test/x', { headers: { accept: 'application/json' }, timeoutMs: 1_000 });
    expect(res.status).toBe(200);
    expect(w.calls).toEqual([
      { url: 'http://svc.test/x', authorization: 'Bearer tok-1', hasSignal: true },
      { url: 'http://svc.test/x', authorization: 'Bearer tok-2', hasSignal: true },
    ]);
  });

  it('answers a second 401 as it is (no loop), and any other status at once', async () => {
    const w = world(new Set(['Bearer tok-1', 'Bearer tok-2']));
    expect((await w.tokens.fetch('http://svc.test/x')).status).toBe(401);
    expect(w.calls).toHaveLength(2);
  });

  it('serviceFetch without a token source is a plain fetch', async () => {
    await expect(serviceFetch(undefined, 'http://127.0.0.1:1/unreachable', { timeoutMs: 1_000 })).rejects.toThrow();
  });
});
