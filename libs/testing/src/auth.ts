import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fetchDemoToken } from './demo-token';
import { REPO_ROOT } from './infra';

/**
 * Tokens for tests, from the real local issuer (scripts/oidc/issuer.mjs) that the integration
 * global setup starts: `tokenFor('warehouse')` is a JWT a service verifies like any other.
 * There is no bypass: a test without a token gets 401.
 */

/** Role -> the issuer's demo user (scripts/oidc/demo-users.mjs). */
export const DEMO_USER_OF_ROLE = {
  customer_service: 'cs',
  warehouse: 'warehouse',
  finance: 'finance',
  sales: 'sales',
  designer: 'designer',
  cost_accountant: 'cost',
  general_manager: 'gm',
  admin: 'admin',
  integration: 'integration',
  customer: 'customer',
} as const;
export type TestRole = keyof typeof DEMO_USER_OF_ROLE;

/** Every Flowline service that has a client-credentials client (`svc-<name>`). */
export const SERVICE_CLIENTS = ['order-intake', 'inventory', 'approval', 'fulfillment', 'notification', 'tracking', 'channel-gateway', 'analytics', 'console'];

export const secretEnvName = (service: string) => `OIDC_CLIENT_SECRET_${service.replace(/-/g, '_').toUpperCase()}`;

export function issuerUrl(): string {
  const url = process.env.OIDC_ISSUER;
  if (!url) throw new Error('OIDC_ISSUER is not set: the integration global setup (libs/testing/src/global-setup.ts) starts the issuer');
  return url.replace(/\/+$/, '');
}

export interface TokenOptions {
  /** Narrow the token to these shops (the demo user's own shops are the upper bound). */
  shops?: string[];
  /** Customer tokens: the orders the customer owns. */
  orders?: string[];
  /** Another demo user than the role's default (e.g. `cs-jd`). */
  user?: string;
  /** Local issuer only: the same roles under another subject (named approvers, delegates). */
  persona?: string;
  /** Local issuer only: organisation roles put before the user's own (an approval chain's `board`). */
  extraRoles?: string[];
}

const cache = new Map<string, { token: string; expiresAt: number }>();

/** An access token of the demo user of `role`, through the issuer's token endpoint (password grant). */
export async function tokenFor(role: TestRole, options: TokenOptions = {}): Promise<string> {
  const user = options.user ?? DEMO_USER_OF_ROLE[role];
  const key = JSON.stringify([issuerUrl(), user, options.shops ?? null, options.orders ?? null, options.persona ?? null, options.extraRoles ?? null]);
  const hit = cache.get(key);
  if (hit && hit.expiresAt > Date.now()) return hit.token;
  const params: Record<string, string> = {
    ...(options.shops ? { shops: options.shops.join(',') } : {}),
    ...(options.orders ? { orders: options.orders.join(',') } : {}),
    ...(options.persona ? { persona: options.persona } : {}),
    ...(options.extraRoles ? { extra_roles: options.extraRoles.join(',') } : {}),
  };
  const { accessToken, expiresIn } = await fetchDemoToken(issuerUrl(), user, { params });
  cache.set(key, { token: accessToken, expiresAt: Date.now() + Math.max(0, expiresIn - 120) * 1000 });
  return accessToken;
}

/** `{ authorization: 'Bearer …' }` of `role`. */
export async function authHeader(role: TestRole = 'admin', options: TokenOptions = {}): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await tokenFor(role, options)}` };
}

/** `{ authorization }` of a named person in a role (a persona of the role's demo user). */
export async function personaHeader(id: string, role: string): Promise<{ authorization: string }> {
  const known = role in DEMO_USER_OF_ROLE;
  return authHeader(known ? (role as TestRole) : 'general_manager', { persona: id, ...(known ? {} : { extraRoles: [role] }) });
}

/** A client-credentials token of service `service` (its secret is in the test environment). */
export async function serviceToken(service: string): Promise<string> {
  const secret = process.env[secretEnvName(service)];
  if (!secret) throw new Error(`${secretEnvName(service)} not set`);
  const res = await fetch(`${issuerUrl()}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
    headers: { authorization: `Basic ${Buffer.from(`svc-${service}:${secret}`).toString('base64')}` },
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`no client-credentials token for svc-${service}: ${res.status}`);
  return json.access_token;
}

/**
 * Tokens a service must refuse, for the 401 tests: signed with the issuer's real key but expired
 * (beyond the 30 s tolerance) or for another audience, and one with the right claims signed by a
 * key the issuer never published (same kid).
 */
export async function refusedTokens(): Promise<{ expired: string; wrongAudience: string; wrongSignature: string; wrongIssuer: string }> {
  const { SignJWT, importJWK, generateKeyPair } = await import('jose');
  const jwks = JSON.parse(readFileSync(resolve(REPO_ROOT, process.env.OIDC_KEY_DIR ?? '.data/oidc', 'jwks.json'), 'utf8')) as { keys: (Record<string, unknown> & { kid: string })[] };
  const jwk = jwks.keys[0];
  const key = (await importJWK(jwk, 'RS256')) as Exclude<Awaited<ReturnType<typeof importJWK>>, never>;
  const now = Math.floor(Date.now() / 1000);
  const claims = { roles: ['admin'], shops: ['*'], client_id: 'flowline-cli' };
  type SigningKey = Parameters<InstanceType<typeof SignJWT>['sign']>[0];
  const sign = (k: SigningKey, c: { aud: string; iat: number; exp: number; iss?: string }) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' })
      .setSubject('admin')
      .setIssuer(c.iss ?? issuerUrl())
      .setAudience(c.aud)
      .setIssuedAt(c.iat)
      .setExpirationTime(c.exp)
      .sign(k);
  const stranger = (await generateKeyPair('RS256')).privateKey;
  return {
    expired: await sign(key, { aud: 'flowline', iat: now - 7200, exp: now - 3600 }),
    wrongAudience: await sign(key, { aud: 'someone-else', iat: now, exp: now + 600 }),
    wrongSignature: await sign(stranger, { aud: 'flowline', iat: now, exp: now + 600 }),
    wrongIssuer: await sign(key, { aud: 'flowline', iat: now, exp: now + 600, iss: 'http://127.0.0.1:1/evil' }),
  };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

export interface RunningIssuer {
  url: string;
  /** Environment a service process needs: OIDC_ISSUER and every service client's secret. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the local issuer on a free port with a fresh secret per service client, and waits for its
 * discovery document. Used by the global setup (and scripts that need their own issuer).
 */
export async function startIssuer(options: { port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunningIssuer> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const secrets = Object.fromEntries(SERVICE_CLIENTS.map((s) => [secretEnvName(s), randomBytes(24).toString('base64url')]));
  const child: ChildProcess = spawn(process.execPath, [resolve(REPO_ROOT, 'scripts/oidc/issuer.mjs')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, ...secrets, OIDC_PORT: String(port), OIDC_ISSUER_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the OIDC issuer exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the OIDC issuer did not answer in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    env: { OIDC_ISSUER: url, ...secrets },
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
