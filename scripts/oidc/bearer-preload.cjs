// Preload (`node -r ./scripts/oidc/bearer-preload.cjs script.ts`) for local scripts that call the
// running services (the demo seeder): every fetch to 127.0.0.1 / localhost without an
// Authorization header carries a bearer token of the local issuer (OIDC_ISSUER). The token is the
// demo user OIDC_SCRIPT_USER (default `admin`, password `demo`) from the password grant that only
// the local issuer (scripts/oidc/issuer.mjs) offers; OIDC_SCRIPT_TOKEN gives a token outright.
'use strict';
const issuer = (process.env.OIDC_ISSUER || '').replace(/\/+$/, '');
if (issuer && typeof globalThis.fetch === 'function') {
  const original = globalThis.fetch;
  const issuerHost = new URL(issuer).host;
  let cached;
  const token = async () => {
    if (process.env.OIDC_SCRIPT_TOKEN) return process.env.OIDC_SCRIPT_TOKEN;
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const body = new URLSearchParams({ grant_type: 'password', client_id: 'flowline-cli', username: process.env.OIDC_SCRIPT_USER || 'admin', password: process.env.OIDC_DEMO_PASSWORD || 'demo' });
    const res = await original(`${issuer}/token`, { method: 'POST', body });
    const json = await res.json();
    if (!res.ok || !json.access_token) throw new Error(`the issuer at ${issuer} gave no token: ${res.status} ${json.error || ''}`);
    cached = { token: json.access_token, expiresAt: Date.now() + Math.max(0, (json.expires_in || 300) - 120) * 1000 };
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
