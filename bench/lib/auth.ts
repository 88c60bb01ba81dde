import { DemoTokenRefused, fetchDemoToken, type DemoToken } from '../../libs/testing/src/demo-token';

/**
 * The bench's bearer token (issue #16 made every service API require one): the demo user
 * `OIDC_SCRIPT_USER` (default `admin`, password `demo`) from the local issuer's password grant
 * (scripts/oidc/issuer.mjs, which `npm start` runs on 4400 + FLOWLINE_PORT_OFFSET), or
 * `OIDC_SCRIPT_TOKEN` outright, as scripts/oidc/bearer-preload.cjs does for the seeder. No issuer
 * answering (a system from before auth): requests go without a token.
 */
let header: string | undefined;
let refresh: NodeJS.Timeout | undefined;

export function issuerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.OIDC_ISSUER ?? `http://127.0.0.1:${4400 + Number(env.FLOWLINE_PORT_OFFSET ?? 0)}`).replace(/\/+$/, '');
}

/** Fetches (and keeps refreshing) the token; resolves false when no issuer answers. */
export async function ensureBenchToken(log: (m: string) => void = console.log): Promise<boolean> {
  if (process.env.OIDC_SCRIPT_TOKEN) {
    header = `Bearer ${process.env.OIDC_SCRIPT_TOKEN}`;
    return true;
  }
  const issuer = issuerUrl();
  const user = process.env.OIDC_SCRIPT_USER ?? 'admin';
  const password = process.env.OIDC_DEMO_PASSWORD ?? 'demo';
  let token: DemoToken;
  try {
    token = await fetchDemoToken(issuer, user, { password, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    // Only an issuer that does not answer means "no auth"; one that answers without a token is an error.
    if (e instanceof DemoTokenRefused) throw e;
    if (!header) log(`no OIDC issuer at ${issuer}: requests carry no bearer token`);
    return false;
  }
  header = `Bearer ${token.accessToken}`;
  if (refresh) clearTimeout(refresh);
  refresh = setTimeout(() => void ensureBenchToken(log).catch((e) => log(`token refresh failed: ${String(e)}`)), Math.max(30, token.expiresIn - 60) * 1000);
  refresh.unref();
  return true;
}

/** `{ authorization }` when the bench holds a token, else nothing. */
export function authHeaders(): Record<string, string> {
  return header ? { authorization: header } : {};
}
