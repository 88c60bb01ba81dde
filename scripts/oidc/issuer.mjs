// Flowline's local OpenID Connect issuer (issue #16, docs/adr/0013-auth.md): oidc-provider with
// one demo user per role, the console client (authorization code + PKCE), a client-credentials
// client per service and JWT access tokens for the audience `flowline`. For `npm start` and the
// tests only: production points OIDC_ISSUER at the company's identity provider.
//
//   node scripts/oidc/issuer.mjs            (OIDC_PORT, default 4400 + FLOWLINE_PORT_OFFSET)
//
// Signing keys (RS256) are generated at first start into .data/oidc/ (git-ignored): no key or
// secret is in the repository. Service client secrets come from the environment
// (OIDC_CLIENT_SECRET_<SERVICE>, e.g. OIDC_CLIENT_SECRET_CHANNEL_GATEWAY); a service without one
// has no client here.

import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
// The sign-in page of oidc-provider's development interactions, to show it again with an error.
import * as devViews from 'oidc-provider/lib/views/index.js';
import { ALL_ROLES, DEMO_USERS, SERVICE_NAMES, AUDIENCE, RESOURCE } from './demo-users.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const offset = Number(process.env.FLOWLINE_PORT_OFFSET ?? 0);
const port = Number(process.env.OIDC_PORT ?? 4400 + offset);
const host = process.env.OIDC_HOST ?? '127.0.0.1';
const issuer = process.env.OIDC_ISSUER_URL ?? `http://127.0.0.1:${port}`;
const consolePort = 3009 + offset;
const keyDir = resolve(ROOT, process.env.OIDC_KEY_DIR ?? '.data/oidc');
const ACCESS_TOKEN_TTL = Number(process.env.OIDC_ACCESS_TOKEN_TTL_SEC ?? 3600);

/** RS256 signing key, made once and kept in the git-ignored key dir (several issuers may race: write + rename). */
async function signingKeys() {
  const file = resolve(keyDir, 'jwks.json');
  if (!existsSync(file)) {
    mkdirSync(keyDir, { recursive: true });
    const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    const jwk = { ...(await exportJWK(privateKey)), kid: `flowline-${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ keys: [jwk] }), { mode: 0o600 });
    // link() fails when another issuer made the file first: theirs wins, both use the same key.
    try {
      linkSync(tmp, file);
    } catch {
      // EEXIST: keep the existing key
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

function serviceClients() {
  const clients = [];
  for (const service of SERVICE_NAMES) {
    const secret = process.env[`OIDC_CLIENT_SECRET_${service.replace(/-/g, '_').toUpperCase()}`];
    if (!secret) continue;
    clients.push({
      client_id: `svc-${service}`,
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      'urn:flowline:service': service,
    });
  }
  return clients;
}

const users = new Map(DEMO_USERS.map((u) => [u.sub, u]));
const resourceServerInfo = {
  scope: 'api',
  audience: AUDIENCE,
  accessTokenTTL: ACCESS_TOKEN_TTL,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'RS256' } },
};

/** A comma list parameter (`shops=jd-flagship,tmall-store`) as a string[] or undefined. */
function listParam(value) {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

const provider = new Provider(issuer, {
  clients: [
    {
      // The staff console (services/console): authorization code + PKCE, a public client.
      client_id: 'flowline-console',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [`http://127.0.0.1:${consolePort}/auth/callback`, `http://localhost:${consolePort}/auth/callback`],
      post_logout_redirect_uris: [`http://127.0.0.1:${consolePort}/`, `http://localhost:${consolePort}/`],
    },
    {
      // Demo / test client: the resource-owner password grant for the demo users (local issuer only).
      client_id: 'flowline-cli',
      token_endpoint_auth_method: 'none',
      grant_types: ['password'],
      response_types: [],
      redirect_uris: [],
    },
    ...serviceClients(),
  ],
  extraClientMetadata: { properties: ['urn:flowline:service'] },
  jwks: await signingKeys(),
  enabledJWA: { requestObjectSigningAlgValues: ['RS256'], idTokenSigningAlgValues: ['RS256'] },
  async findAccount(_ctx, sub) {
    const user = users.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: user.name, roles: user.roles, shops: user.shops ?? ['*'] };
      },
    };
  },
  claims: { openid: ['sub'], profile: ['name', 'roles', 'shops'] },
  scopes: ['openid', 'profile', 'offline_access', 'api'],
  pkce: { required: () => true },
  ttl: { AccessToken: ACCESS_TOKEN_TTL, ClientCredentials: ACCESS_TOKEN_TTL, IdToken: 3600, Interaction: 3600, Session: 8 * 3600, Grant: 8 * 3600, AuthorizationCode: 60, RefreshToken: 8 * 3600 },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== RESOURCE) throw new errors.InvalidTarget();
        return resourceServerInfo;
      },
    },
  },
  // The first-party console needs no consent screen: its grant is made on the fly.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    if (ctx.oidc.client.clientId !== 'flowline-console') return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile offline_access');
    grant.addResourceScope(RESOURCE, 'api');
    await grant.save();
    return grant;
  },
  // The claims of the auth contract (libs/auth/README.md) on every JWT access token.
  async extraTokenClaims(ctx, token) {
    if (token.kind === 'ClientCredentials') {
      const client = await ctx.oidc.provider.Client.find(token.clientId);
      return { roles: ['integration'], shops: ['*'], name: client?.['urn:flowline:service'] ?? token.clientId };
    }
    // The password grant computed the claims already (persona, narrowed shops): see below.
    if (ctx.oidc.flowlineClaims) return ctx.oidc.flowlineClaims;
    const user = users.get(token.accountId);
    if (!user) return undefined;
    return { roles: user.roles, shops: user.shops ?? ['*'], name: user.name };
  },
});
provider.proxy = true;

/** The demo password (OIDC_DEMO_PASSWORD, default `demo`): the same check for the sign-in page and the password grant. */
const demoPassword = () => process.env.OIDC_DEMO_PASSWORD ?? 'demo';
/** The demo user a login and password name, or undefined (unknown user or wrong password: one answer for both). */
const signIn = (login, password) => {
  const user = typeof login === 'string' ? users.get(login.trim()) : undefined;
  return user && typeof password === 'string' && password === demoPassword() ? user : undefined;
};

const INTERACTION = /^\/interaction\/([^/]+)$/;

/** Reads a urlencoded form (the sign-in page's), at most 8 KiB. */
async function readForm(req) {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk.toString();
    if (raw.length > 8192) throw new errors.InvalidRequest('the form is too large');
  }
  return new URLSearchParams(raw);
}

// oidc-provider's development interactions take ANY login and password on their sign-in page (an
// unknown user then fails later with a 500). The sign-in is checked here, before them: a demo user
// with the demo password signs in; anything else gets the sign-in page again, with an error (401).
// The consent page and everything else stay theirs.
provider.use(async (ctx, next) => {
  const uid = ctx.method === 'POST' ? INTERACTION.exec(ctx.path)?.[1] : undefined;
  if (!uid) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res).catch(() => undefined);
  if (details?.uid !== uid || details.prompt.name !== 'login') return next();
  const form = await readForm(ctx.req);
  const user = form.get('prompt') === 'login' ? signIn(form.get('login'), form.get('password')) : undefined;
  if (user) {
    // What the development interaction does with a login, once it is known to be right.
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    ctx.respond = false;
    return;
  }
  const client = await provider.Client.find(details.params.client_id);
  const locals = {
    client: client ?? {},
    uid,
    abortUrl: new URL(`/interaction/${uid}/abort`, issuer).pathname,
    submitUrl: new URL(`/interaction/${uid}`, issuer).pathname,
    details: details.prompt.details,
    prompt: 'login',
    // The login typed comes back pre-filled (login_hint is what the page pre-fills); the password never does.
    params: { ...details.params, login_hint: typeof form.get('login') === 'string' ? form.get('login') : undefined },
    title: 'Sign-in',
    dbg: { params: '', prompt: '' },
  };
  const error = '<p role="alert" class="login-error" data-testid="issuer-login-error" style="color:#b91c1c;text-align:center">Wrong username or password / 用户名或密码错误</p>\n';
  ctx.status = 401;
  ctx.set('cache-control', 'no-store');
  ctx.type = 'html';
  ctx.body = devViews.layout({ ...locals, body: error + devViews.login(locals) });
});

// Resource-owner password grant for the demo users (password `demo`), so a curl or a test gets a
// user's token without a browser. Registered only here, in the local issuer.
provider.registerGrantType(
  'password',
  async (ctx) => {
    const { username, password } = ctx.oidc.params;
    const user = signIn(username, password);
    if (!user) throw new errors.InvalidGrant('wrong username or password');
    const claims = { roles: user.roles, shops: user.shops ?? ['*'], name: user.name };
    // Narrowing (tests: a JD-only customer-service token): never wider than the demo user's shops.
    const shops = listParam(ctx.oidc.params.shops);
    if (shops) claims.shops = claims.shops.includes('*') ? shops : shops.filter((s) => claims.shops.includes(s));
    const orders = listParam(ctx.oidc.params.orders);
    if (orders && user.roles.includes('customer')) claims.orders = orders;
    // Personas (local issuer only, for tests of named approvers and delegates): the demo user's
    // token under another subject, optionally with extra organisation roles before the user's own
    // (an approval chain's `board`). Nobody gains a Flowline role the demo user does not have.
    const persona = typeof ctx.oidc.params.persona === 'string' && /^[A-Za-z0-9._:@-]{1,64}$/.test(ctx.oidc.params.persona) ? ctx.oidc.params.persona : undefined;
    const extraRoles = (listParam(ctx.oidc.params.extra_roles) ?? []).filter((r) => !ALL_ROLES.includes(r));
    if (extraRoles.length) claims.roles = [...extraRoles, ...claims.roles];
    const sub = persona ?? user.sub;
    ctx.oidc.flowlineClaims = claims;
    const { client } = ctx.oidc;
    const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
    grant.addOIDCScope('openid profile');
    grant.addResourceScope(RESOURCE, 'api');
    const grantId = await grant.save();
    const token = new provider.AccessToken({ accountId: sub, client, grantId, gty: 'password', scope: 'api' });
    token.resourceServer = new provider.ResourceServer(RESOURCE, resourceServerInfo);
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    ctx.body = { access_token: value, expires_in: token.expiration, token_type: 'Bearer', scope: 'api' };
  },
  ['username', 'password', 'scope', 'resource', 'shops', 'orders', 'persona', 'extra_roles'],
);

const server = provider.listen(port, host);
server.on('listening', () => {
  const addr = server.address();
  const url = process.env.OIDC_ISSUER_URL ?? `http://127.0.0.1:${addr.port}`;
  process.stdout.write(
    `[oidc] issuer ${url} ready (demo users: ${DEMO_USERS.map((u) => u.sub).join(', ')}; password demo)\n` +
      `[oidc] a token: curl -s ${url}/token -d grant_type=password -d client_id=flowline-cli -d username=warehouse -d password=demo\n`,
  );
});
server.on('error', (e) => {
  process.stderr.write(`[oidc] cannot listen on ${host}:${port}: ${e.message}\n`);
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));

