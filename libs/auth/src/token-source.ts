/**
 * Service-to-service access tokens (OAuth 2.0 client credentials): asks the issuer's token
 * endpoint (from discovery) for a token with the `flowline` audience and keeps it until shortly
 * before it expires; concurrent callers share one request. For a service's adapters that call
 * another Flowline service (channel-gateway -> order-intake, ...).
 */
export interface ClientCredentials {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** RFC 8707 resource indicator (default: none, the issuer's default resource). */
  resource?: string;
}

export class ClientCredentialsTokenSource {
  private cached: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private tokenEndpoint: string | undefined;

  constructor(
    private readonly creds: ClientCredentials,
    private readonly now: () => number = Date.now,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** A valid access token (cached until 60 s before `expires_in` runs out). */
  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt > this.now()) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** `{ authorization: 'Bearer …' }` for a fetch. */
  async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.token()}` };
  }

  /** Drops the cached token (e.g. after a 401: the issuer's keys rotated). */
  invalidate(): void {
    this.cached = undefined;
  }

  /**
   * `fetch` carrying this source's token. A 401 (the issuer's keys rotated, the cached token was
   * revoked) gets one fresh token and one retry; any other answer is the caller's. `timeoutMs`
   * bounds each try on its own.
   */
  async fetch(url: string, init: ServiceRequestInit = {}): Promise<Response> {
    const { timeoutMs, ...rest } = init;
    const send = async () =>
      this.fetchImpl(url, {
        ...rest,
        headers: { ...(rest.headers as Record<string, string> | undefined), ...(await this.headers()) },
        ...(timeoutMs !== undefined ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      });
    const res = await send();
    if (res.status !== 401) return res;
    this.invalidate();
    return send();
  }

  private async endpoint(): Promise<string> {
    if (this.tokenEndpoint) return this.tokenEndpoint;
    const res = await this.fetchImpl(`${this.creds.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`OIDC discovery at ${this.creds.issuer} answered ${res.status}`);
    const doc = (await res.json()) as { token_endpoint?: string };
    if (!doc.token_endpoint) throw new Error('OIDC discovery document without token_endpoint');
    return (this.tokenEndpoint = doc.token_endpoint);
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.creds.resource) body.set('resource', this.creds.resource);
    const basic = Buffer.from(`${encodeURIComponent(this.creds.clientId)}:${encodeURIComponent(this.creds.clientSecret)}`).toString('base64');
    const res = await this.fetchImpl(await this.endpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || !json.access_token) throw new Error(`client credentials token for ${this.creds.clientId} refused: ${res.status} ${json.error ?? ''}`.trim());
    const ttlMs = Math.max(0, (json.expires_in ?? 300) - 60) * 1000;
    this.cached = { token: json.access_token, expiresAt: this.now() + ttlMs };
    return json.access_token;
  }
}

/** A request to another service; `timeoutMs` bounds each try (a retry after a 401 gets its own). */
export type ServiceRequestInit = RequestInit & { timeoutMs?: number };

/** A call to another Flowline service: with the service's token when it has one (`tokens.fetch`), else a plain `fetch`. */
export function serviceFetch(tokens: ClientCredentialsTokenSource | undefined, url: string, init: ServiceRequestInit = {}): Promise<Response> {
  if (tokens) return tokens.fetch(url, init);
  const { timeoutMs, ...rest } = init;
  return fetch(url, { ...rest, ...(timeoutMs !== undefined ? { signal: AbortSignal.timeout(timeoutMs) } : {}) });
}

/**
 * The token source of service `service` from the environment: OIDC_ISSUER, OIDC_CLIENT_ID
 * (default `svc-<service>`) and OIDC_CLIENT_SECRET (or OIDC_CLIENT_SECRET_<SERVICE>). Undefined
 * when no secret is configured (the caller then sends no token and is refused: 401).
 */
export function serviceTokenSourceFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): ClientCredentialsTokenSource | undefined {
  const issuer = env.OIDC_ISSUER?.trim();
  const secret = env.OIDC_CLIENT_SECRET?.trim() || env[`OIDC_CLIENT_SECRET_${service.replace(/-/g, '_').toUpperCase()}`]?.trim();
  if (!issuer || !secret) return undefined;
  return new ClientCredentialsTokenSource({ issuer, clientId: env.OIDC_CLIENT_ID?.trim() || `svc-${service}`, clientSecret: secret });
}
