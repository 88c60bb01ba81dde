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
  const body = new URLSearchParams({ grant_type: 'password', client_id: 'flowline-cli', username: process.env.OIDC_SCRIPT_USER ?? 'admin', password: process.env.OIDC_DEMO_PASSWORD ?? 'demo' });
  let res: Response;
  try {
    res = await fetch(`${issuer}/token`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
  } catch {
    if (!header) log(`no OIDC issuer at ${issuer}: requests carry no bearer token`);
    return false;
  }
  const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
  if (!res.ok || !json.access_token) throw new Error(`the issuer at ${issuer} gave no token: ${res.status} ${json.error ?? ''}`);
  header = `Bearer ${json.access_token}`;
  if (refresh) clearTimeout(refresh);
  refresh = setTimeout(() => void ensureBenchToken(log).catch((e) => log(`token refresh failed: ${String(e)}`)), Math.max(30, (json.expires_in ?? 300) - 60) * 1000);
  refresh.unref();
  return true;
}

/** `{ authorization }` when the bench holds a token, else nothing. */
export function authHeaders(): Record<string, string> {
  return header ? { authorization: header } : {};
}
