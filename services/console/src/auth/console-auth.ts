import { parseCookies, serializeCookie } from './cookies';
import { customerTokenSet, type OidcClient } from './oidc-client';
import { needsRefresh, type ConsoleSession, type SessionRepository } from './sessions';

export const STAFF_COOKIE = 'flowline_sid';
export const PORTAL_COOKIE = 'flowline_portal';
export const LOGIN_COOKIE = 'flowline_login';
/** The portal's own calls say so: the BFF then forwards the customer's token, never a staff one. */
export const PORTAL_HEADER = 'x-flowline-portal';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The sessions behind the two cookies: the staff session (OIDC tokens, refreshed ahead of expiry,
 * one refresh at a time per session) and the customer portal session (order-intake's customer token).
 */
export class ConsoleAuth {
  private readonly refreshing = new Map<string, Promise<ConsoleSession | undefined>>();

  constructor(
    readonly store: SessionRepository,
    readonly oidc: OidcClient,
    private readonly cookieSecure: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  cookie(name: string, value: string, maxAgeSeconds: number, sameSite: 'Strict' | 'Lax' = 'Strict', path = '/'): string {
    return serializeCookie(name, value, { maxAgeSeconds, sameSite, secure: this.cookieSecure, path });
  }

  cookieValue(headers: Headers, name: string): string | undefined {
    return parseCookies(headers.cookie)[name];
  }

  /** The staff session with an access token valid for at least a minute, or none (then the user logs in again). */
  async staff(headers: Headers): Promise<ConsoleSession | undefined> {
    const s = await this.store.get(this.cookieValue(headers, STAFF_COOKIE), 'staff');
    if (!s) return undefined;
    if (!needsRefresh(s.tokens, this.now())) return s;
    if (!s.tokens.refreshToken) {
      if (s.tokens.expiresAt > this.now()) return s;
      await this.store.destroy(s.id);
      return undefined;
    }
    let p = this.refreshing.get(s.id);
    if (!p) {
      p = this.oidc
        .refresh(s.tokens)
        .then(async ({ tokens, user }) => {
          await this.store.update(s.id, tokens, user);
          return this.store.get(s.id, 'staff');
        })
        .catch(async () => {
          // Another replica may have refreshed this session meanwhile (a rotated refresh token is
          // then refused here): its fresh tokens are in the shared store.
          const now = await this.store.get(s.id, 'staff').catch(() => undefined);
          if (now && !needsRefresh(now.tokens, this.now())) return now;
          // Refused or revoked: the session ends; the app sends the user to the login.
          await this.store.destroy(s.id).catch(() => undefined);
          return undefined;
        })
        .finally(() => this.refreshing.delete(s.id));
      this.refreshing.set(s.id, p);
    }
    return p;
  }

  async customer(headers: Headers): Promise<ConsoleSession | undefined> {
    const s = await this.store.get(this.cookieValue(headers, PORTAL_COOKIE), 'customer');
    if (s && s.tokens.expiresAt <= this.now()) {
      await this.store.destroy(s.id);
      return undefined;
    }
    return s;
  }

  /** The bearer token a forwarded call carries: the customer's for the portal's calls, else the staff user's. */
  async bearerFor(headers: Headers): Promise<string | undefined> {
    const portal = headers[PORTAL_HEADER] === '1';
    const s = portal ? await this.customer(headers) : await this.staff(headers);
    return s?.tokens.accessToken;
  }

  startCustomer(token: string): Promise<ConsoleSession> {
    const { tokens, user } = customerTokenSet(token, this.now());
    return this.store.create('customer', user, tokens);
  }
}
