// Preload (`node -r ./scripts/oidc/bearer-preload.cjs script.ts`) for local scripts that call the
// running services (the demo seeder): every fetch to 127.0.0.1 / localhost without an
// Authorization header carries a bearer token of the local issuer (OIDC_ISSUER). The token is the
// demo user OIDC_SCRIPT_USER (default `admin`, password `demo`) from the password grant that only
// the local issuer (scripts/oidc/issuer.mjs) offers; OIDC_SCRIPT_TOKEN gives a token outright.
// Loaded after `-r @swc-node/register` (every caller does so), which lets it require the TypeScript
// token request shared with the tests and the bench.
'use strict';
const issuer = (process.env.OIDC_ISSUER || '').replace(/\/+$/, '');
if (issuer && typeof globalThis.fetch === 'function') {
  const { fetchDemoToken } = require('../../libs/testing/src/demo-token.ts');
  const original = globalThis.fetch;
  const issuerHost = new URL(issuer).host;
  let cached;
  const token = async () => {
    if (process.env.OIDC_SCRIPT_TOKEN) return process.env.OIDC_SCRIPT_TOKEN;
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    // Through the patched fetch below: requests to the issuer itself pass unchanged.
    const { accessToken, expiresIn } = await fetchDemoToken(issuer, process.env.OIDC_SCRIPT_USER || 'admin', { password: process.env.OIDC_DEMO_PASSWORD || 'demo' });
    cached = { token: accessToken, expiresAt: Date.now() + Math.max(0, expiresIn - 120) * 1000 };
    return cached.token;
  };
  globalThis.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
    const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
    if (!local || url.host === issuerHost) return original(input, init);
    const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${await token()}`);
    return original(input, { ...init, headers });
  };
}
