import { issuerUrl, tokenFor } from './auth';

/**
 * Vitest setup file of the integration tier (vitest.config.mts): every request a test sends to a
 * local service without an Authorization header carries the demo admin's token, fetched from the
 * real issuer and verified by the service like any other (the brief's "admin token by default").
 * A test that checks refusals sets the header itself: `authorization: ''` sends none (-> 401),
 * `authorization: 'Bearer <other role>'` sends that role's token. gRPC test helpers
 * (@flowline/platform's grpc-probe and reflection client) read the same default through
 * `defaultTestAuthorization()`.
 */

const DEFAULT_AUTH = Symbol.for('flowline.test.defaultAuthorization');
type Holder = { [DEFAULT_AUTH]?: () => Promise<string | undefined> };

const originalFetch = globalThis.fetch;

function isLocal(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

if (process.env.OIDC_ISSUER && !(globalThis as Holder)[DEFAULT_AUTH]) {
  const issuer = new URL(issuerUrl());
  const defaultAuthorization = async () => `Bearer ${await tokenFor('admin')}`;
  (globalThis as Holder)[DEFAULT_AUTH] = defaultAuthorization;

  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
    if (!isLocal(url) || url.host === issuer.host) return originalFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (headers.has('authorization')) {
      // An explicit empty value means "send no token" (the 401 tests).
      if (!headers.get('authorization')) headers.delete('authorization');
      return originalFetch(input, { ...init, headers });
    }
    headers.set('authorization', await defaultAuthorization());
    return originalFetch(input, { ...init, headers });
  };
}
