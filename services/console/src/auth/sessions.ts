import { randomToken } from './pkce';

/**
 * Server-side sessions of the BFF: the browser holds only an opaque id in an httpOnly cookie; the
 * tokens stay here. In memory on purpose (the console has no database): a restart logs everyone
 * out, and more than one console replica needs sticky sessions (ADR 0013).
 */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** epoch ms when the access token expires */
  expiresAt: number;
}

/** What the screens need to know about the user (read from the verified access token). */
export interface SessionUser {
  subject: string;
  name?: string;
  roles: string[];
  /** shop ids; ["*"] = all shops */
  shops: string[];
  /** customer tokens: the orders this customer proved ownership of */
  orders?: string[];
}

export interface ConsoleSession {
  id: string;
  kind: 'staff' | 'customer';
  user: SessionUser;
  tokens: TokenSet;
  createdAt: number;
}

export interface PendingLogin {
  state: string;
  verifier: string;
  nonce: string;
  returnTo: string;
  redirectUri: string;
  createdAt: number;
}

/** Refresh this long before the access token expires, so no forwarded call carries a token about to lapse. */
export const REFRESH_AHEAD_MS = 60_000;

export const needsRefresh = (t: TokenSet, now: number, aheadMs = REFRESH_AHEAD_MS): boolean => t.expiresAt - now <= aheadMs;

/** A local path only (no scheme, no host, no `//host`): the login never redirects off the console. */
export function safeReturnTo(v: unknown): string {
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\') || /[\r\n]/.test(v) || v.length > 2000) return '/';
  if (v.startsWith('/api/')) return '/';
  return v;
}

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly pending = new Map<string, PendingLogin>();

  constructor(
    private readonly opts: { maxSessions: number; maxPending: number; pendingTtlMs: number; absoluteTtlMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** An unauthenticated caller can start logins: bounded count and lifetime, oldest dropped first. */
  startLogin(p: Omit<PendingLogin, 'state' | 'createdAt'>): PendingLogin {
    this.sweep();
    while (this.pending.size >= this.opts.maxPending) this.pending.delete(this.pending.keys().next().value as string);
    const login: PendingLogin = { ...p, state: randomToken(24), createdAt: this.now() };
    this.pending.set(login.state, login);
    return login;
  }

  /** One use only: a replayed callback finds nothing. */
  takeLogin(state: string): PendingLogin | undefined {
    const p = this.pending.get(state);
    this.pending.delete(state);
    if (!p || this.now() - p.createdAt > this.opts.pendingTtlMs) return undefined;
    return p;
  }

  create(kind: ConsoleSession['kind'], user: SessionUser, tokens: TokenSet): ConsoleSession {
    this.sweep();
    while (this.sessions.size >= this.opts.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    const s: ConsoleSession = { id: randomToken(32), kind, user, tokens, createdAt: this.now() };
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined, kind: ConsoleSession['kind']): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s || s.kind !== kind) return undefined;
    if (this.now() - s.createdAt > this.opts.absoluteTtlMs) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  update(id: string, tokens: TokenSet, user: SessionUser): void {
    const s = this.sessions.get(id);
    if (s) this.sessions.set(id, { ...s, tokens, user });
  }

  destroy(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    return s;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, p] of this.pending) if (now - p.createdAt > this.opts.pendingTtlMs) this.pending.delete(k);
    for (const [k, s] of this.sessions) {
      const lapsed = s.tokens.expiresAt < now && !s.tokens.refreshToken;
      if (lapsed || now - s.createdAt > this.opts.absoluteTtlMs) this.sessions.delete(k);
    }
  }
}
