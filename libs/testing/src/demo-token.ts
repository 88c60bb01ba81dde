/** What the local issuer's password grant answers. */
export interface DemoToken {
  accessToken: string;
  /** Seconds (300 when the issuer does not say). */
  expiresIn: number;
}

export interface DemoTokenOptions {
  /** Default `demo`, every demo user's password. */
  password?: string;
  /** The local issuer's extras: shops, orders, persona, extra_roles. */
  params?: Record<string, string>;
  /** Request headers (tests: `authorization: ''` keeps the test setup's default token off a call to another issuer). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The issuer answered, without a token (unknown user, wrong password, a grant it does not offer). */
export class DemoTokenRefused extends Error {
  readonly status: number;
  constructor(issuer: string, user: string, status: number, error: string | undefined) {
    super(`the issuer at ${issuer} gave no token for ${user}: ${status}${error ? ` ${error}` : ''}`);
    this.status = status;
  }
}

/**
 * An access token of a demo user (scripts/oidc/demo-users.mjs) through the password grant that only
 * the local issuer (scripts/oidc/issuer.mjs) offers: the one token request of the tests, the bench,
 * the demo scripts and their fakes. No imports: the bench, scripts and the CommonJS fetch preload
 * load this file directly. Throws DemoTokenRefused when the issuer answers without a token.
 */
export async function fetchDemoToken(issuer: string, user: string, options: DemoTokenOptions = {}): Promise<DemoToken> {
  const base = issuer.replace(/\/+$/, '');
  const body = new URLSearchParams({ grant_type: 'password', client_id: 'flowline-cli', username: user, password: options.password ?? 'demo', ...options.params });
  const res = await fetch(`${base}/token`, { method: 'POST', body, ...(options.headers ? { headers: options.headers } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (!res.ok || !json.access_token) throw new DemoTokenRefused(base, user, res.status, [json.error, json.error_description].filter(Boolean).join(' ') || undefined);
  return { accessToken: json.access_token, expiresIn: json.expires_in ?? 300 };
}
