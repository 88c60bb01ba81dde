import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { SessionUser, TokenSet } from './sessions';

/**
 * The console as an OIDC relying party (authorization code + PKCE, RFC 6749 / 7636 / OIDC Core),
 * against the issuer of the auth contract (OIDC_ISSUER, discovery at /.well-known/openid-configuration).
 * A few fetch calls rather than a client library: discovery, the authorization URL, the code and
 * refresh-token grants, and jose for the signatures (the same verification as @flowline/auth:
 * remote JWKS by kid, iss, aud, exp/nbf with 30 s tolerance, RS256/ES256 only).
 */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** empty: a public client (token_endpoint_auth_method none); PKCE protects the code either way */
  clientSecret?: string;
  /** the `aud` every access token must carry (OIDC_AUDIENCE) */
  audience: string;
  scope: string;
  /** RFC 8707 resource indicator asked for the access token, when the issuer needs one for JWT access tokens */
  resource?: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
}

export class OidcError extends Error {
  constructor(
    readonly code: 'OIDC_UNAVAILABLE' | 'OIDC_REFUSED' | 'OIDC_BAD_TOKEN',
    message: string,
  ) {
    super(message);
  }
}

const ALGS = ['RS256', 'ES256'];
const CLOCK_TOLERANCE = 30;

export class OidcClient {
  private discovered?: Promise<{ d: Discovery; jwks: ReturnType<typeof createRemoteJWKSet> }>;

  constructor(
    readonly settings: OidcSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Fetched once and kept; a failed fetch is not kept (the next login tries again). */
  private meta() {
    this.discovered ??= (async () => {
      const url = `${this.settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      } catch (e) {
        throw new OidcError('OIDC_UNAVAILABLE', `issuer discovery ${url} failed: ${String(e)}`);
      }
      if (!res.ok) throw new OidcError('OIDC_UNAVAILABLE', `issuer discovery ${url} answered ${res.status}`);
      const d = (await res.json()) as Discovery;
      if (d.issuer !== this.settings.issuer) throw new OidcError('OIDC_UNAVAILABLE', `discovery names issuer ${d.issuer}, configured ${this.settings.issuer}`);
      return { d, jwks: createRemoteJWKSet(new URL(d.jwks_uri), { cooldownDuration: 30_000, cacheMaxAge: 600_000 }) };
    })();
    this.discovered.catch(() => (this.discovered = undefined));
    return this.discovered;
  }

  async authorizationUrl(p: { redirectUri: string; state: string; nonce: string; challenge: string }): Promise<string> {
    const { d } = await this.meta();
    const u = new URL(d.authorization_endpoint);
    const q: Record<string, string> = {
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: p.redirectUri,
      scope: this.settings.scope,
      state: p.state,
      nonce: p.nonce,
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
    };
    if (this.settings.resource) q.resource = this.settings.resource;
    for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
    // offline_access needs consent in OIDC; the first-party console asks for it explicitly
    if (this.settings.scope.split(' ').includes('offline_access')) u.searchParams.set('prompt', 'consent');
    return u.toString();
  }

  async exchangeCode(p: { code: string; redirectUri: string; verifier: string; nonce: string }): Promise<{ tokens: TokenSet; user: SessionUser }> {
    const t = await this.tokenCall({ grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.verifier });
    if (!t.id_token) throw new OidcError('OIDC_BAD_TOKEN', 'the token response has no id_token');
    const id = await this.verify(t.id_token, this.settings.clientId);
    if (id.nonce !== p.nonce) throw new OidcError('OIDC_BAD_TOKEN', 'id_token nonce does not match the login');
    return this.accept(t, id);
  }

  /** A new access token from the refresh token; the issuer may rotate the refresh token too. */
  async refresh(tokens: TokenSet): Promise<{ tokens: TokenSet; user: SessionUser }> {
    if (!tokens.refreshToken) throw new OidcError('OIDC_REFUSED', 'no refresh token');
    const t = await this.tokenCall({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, ...(this.settings.resource ? { resource: this.settings.resource } : {}) });
    const id = t.id_token ? await this.verify(t.id_token, this.settings.clientId) : undefined;
    const next = await this.accept({ ...t, refresh_token: t.refresh_token ?? tokens.refreshToken, id_token: t.id_token ?? tokens.idToken }, id);
    return next;
  }

  async endSessionUrl(idToken: string | undefined, postLogoutRedirectUri?: string): Promise<string | undefined> {
    const { d } = await this.meta().catch(() => ({ d: undefined }));
    if (!d?.end_session_endpoint) return undefined;
    const u = new URL(d.end_session_endpoint);
    u.searchParams.set('client_id', this.settings.clientId);
    if (idToken) u.searchParams.set('id_token_hint', idToken);
    if (postLogoutRedirectUri) u.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
    return u.toString();
  }

  private async accept(t: TokenResponse, id: JWTPayload | undefined): Promise<{ tokens: TokenSet; user: SessionUser }> {
    if (!t.access_token || (t.token_type ?? '').toLowerCase() !== 'bearer') throw new OidcError('OIDC_BAD_TOKEN', 'no bearer access token');
    // The services verify the same token on every call; the BFF verifies it too, to read the roles it shows.
    const at = await this.verify(t.access_token, this.settings.audience);
    const exp = typeof at.exp === 'number' ? at.exp * 1000 : this.now() + (t.expires_in ?? 300) * 1000;
    return {
      tokens: { accessToken: t.access_token, ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}), ...(t.id_token ? { idToken: t.id_token } : {}), expiresAt: exp },
      user: userFromClaims(at, id),
    };
  }

  private async verify(jwt: string, audience: string): Promise<JWTPayload> {
    const { jwks } = await this.meta();
    try {
      const { payload } = await jwtVerify(jwt, jwks, { issuer: this.settings.issuer, audience, algorithms: ALGS, clockTolerance: CLOCK_TOLERANCE, currentDate: new Date(this.now()) });
      return payload;
    } catch (e) {
      throw new OidcError('OIDC_BAD_TOKEN', `token refused: ${(e as Error).message}`);
    }
  }

  private async tokenCall(form: Record<string, string>): Promise<TokenResponse> {
    const { d } = await this.meta();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(form);
    if (this.settings.clientSecret) {
      const enc = (s: string) => encodeURIComponent(s);
      headers.authorization = `Basic ${Buffer.from(`${enc(this.settings.clientId)}:${enc(this.settings.clientSecret)}`).toString('base64')}`;
    } else {
      body.set('client_id', this.settings.clientId);
    }
    let res: Response;
    try {
      res = await fetch(d.token_endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new OidcError('OIDC_UNAVAILABLE', `token endpoint failed: ${String(e)}`);
    }
    const json = (await res.json().catch(() => ({}))) as TokenResponse & { error?: string; error_description?: string };
    if (!res.ok) throw new OidcError('OIDC_REFUSED', `token endpoint ${res.status}: ${json.error ?? ''} ${json.error_description ?? ''}`.trim());
    return json;
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The user the screens show, from the access token's contract claims (name may come from the ID token). */
export function userFromClaims(at: JWTPayload, id?: JWTPayload): SessionUser {
  const name = typeof at.name === 'string' ? at.name : typeof id?.name === 'string' ? id.name : undefined;
  const shops = strings(at.shops);
  const orders = strings(at.orders);
  return {
    subject: String(at.sub ?? ''),
    ...(name ? { name } : {}),
    roles: strings(at.roles),
    shops: shops.length ? shops : ['*'],
    ...(orders.length ? { orders } : {}),
  };
}

/**
 * A customer token minted by order-intake's portal, as received straight from order-intake over the
 * back channel: the BFF reads its claims to show the customer's orders and its expiry; every service
 * verifies it on each call (PORTAL_ISSUER), so the BFF does not grant anything from it.
 */
export function customerTokenSet(token: string, now: number): { tokens: TokenSet; user: SessionUser } {
  const c = decodeJwt(token);
  const exp = typeof c.exp === 'number' ? c.exp * 1000 : now + 15 * 60_000;
  return { tokens: { accessToken: token, expiresAt: exp }, user: userFromClaims(c) };
}
