import { randomToken } from './pkce';

/**
 * Server-side sessions of the BFF: the browser holds only an opaque random id in an httpOnly cookie;
 * the tokens stay on the server. The console's own PostgreSQL database keeps them
 * (`pg-session.store.ts`, tokens sealed with AES-256-GCM), so every replica reads the same sessions
 * and a restart logs nobody out (ADR 0014, amendment). `SessionStore` below is the in-memory form
 * of the same contract (unit tests).
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

/** Lifetimes of sessions and pending logins. */
export interface SessionLimits {
  maxSessions: number;
  maxPending: number;
  pendingTtlMs: number;
  /** From the login: then the user logs in again, whatever the activity. */
  absoluteTtlMs: number;
  /** Without a request for this long the session ends (default: no idle limit). */
  idleTtlMs?: number;
}

/** Where sessions live: in memory (tests) or the console's PostgreSQL database (every replica). */
export interface SessionRepository {
  /** An unauthenticated caller can start logins: bounded count and lifetime. */
  startLogin(p: Omit<PendingLogin, 'state' | 'createdAt'>): Promise<PendingLogin>;
  /** One use only: a replayed callback finds nothing. */
  takeLogin(state: string): Promise<PendingLogin | undefined>;
  create(kind: ConsoleSession['kind'], user: SessionUser, tokens: TokenSet): Promise<ConsoleSession>;
  /** The live session of this id and kind (absolute and idle lifetimes checked; a read counts as activity). */
  get(id: string | undefined, kind: ConsoleSession['kind']): Promise<ConsoleSession | undefined>;
  update(id: string, tokens: TokenSet, user: SessionUser): Promise<void>;
  /** Logout: the session is gone for every replica. */
  destroy(id: string | undefined): Promise<ConsoleSession | undefined>;
}

export class SessionStore implements SessionRepository {
  private readonly sessions = new Map<string, ConsoleSession & { lastSeenAt: number }>();
  private readonly pending = new Map<string, PendingLogin>();

  constructor(
    private readonly opts: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async startLogin(p: Omit<PendingLogin, 'state' | 'createdAt'>): Promise<PendingLogin> {
    this.sweep();
    while (this.pending.size >= this.opts.maxPending) this.pending.delete(this.pending.keys().next().value as string);
    const login: PendingLogin = { ...p, state: randomToken(24), createdAt: this.now() };
    this.pending.set(login.state, login);
    return login;
  }

  async takeLogin(state: string): Promise<PendingLogin | undefined> {
    const p = this.pending.get(state);
    this.pending.delete(state);
    if (!p || this.now() - p.createdAt > this.opts.pendingTtlMs) return undefined;
    return p;
  }

  async create(kind: ConsoleSession['kind'], user: SessionUser, tokens: TokenSet): Promise<ConsoleSession> {
    this.sweep();
    while (this.sessions.size >= this.opts.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    const s: ConsoleSession = { id: randomToken(32), kind, user, tokens, createdAt: this.now() };
    this.sessions.set(s.id, { ...s, lastSeenAt: s.createdAt });
    return s;
  }

  async get(id: string | undefined, kind: ConsoleSession['kind']): Promise<ConsoleSession | undefined> {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s || s.kind !== kind) return undefined;
    if (sessionLapsed(s, s.lastSeenAt, this.now(), this.opts)) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeenAt = this.now();
    const { lastSeenAt: _seen, ...session } = s;
    return session;
  }

  async update(id: string, tokens: TokenSet, user: SessionUser): Promise<void> {
    const s = this.sessions.get(id);
    if (s) this.sessions.set(id, { ...s, tokens, user });
  }

  async destroy(id: string | undefined): Promise<ConsoleSession | undefined> {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    if (!s) return undefined;
    const { lastSeenAt: _seen, ...session } = s;
    return session;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, p] of this.pending) if (now - p.createdAt > this.opts.pendingTtlMs) this.pending.delete(k);
    for (const [k, s] of this.sessions) {
      const lapsed = s.tokens.expiresAt < now && !s.tokens.refreshToken;
      if (lapsed || sessionLapsed(s, s.lastSeenAt, now, this.opts)) this.sessions.delete(k);
    }
  }
}

/** Past its absolute lifetime, or idle longer than allowed. */
export function sessionLapsed(s: Pick<ConsoleSession, 'createdAt'>, lastSeenAt: number, now: number, limits: Pick<SessionLimits, 'absoluteTtlMs' | 'idleTtlMs'>): boolean {
  if (now - s.createdAt > limits.absoluteTtlMs) return true;
  return limits.idleTtlMs !== undefined && limits.idleTtlMs > 0 && now - lastSeenAt > limits.idleTtlMs;
}
