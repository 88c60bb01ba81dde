import type { Migration } from '@flowline/platform';
import type { Pool } from 'pg';
import { randomToken } from './pkce';
import { type TokenSealer, sessionIdHash } from './session-crypto';
import { type ConsoleSession, type PendingLogin, type SessionLimits, type SessionRepository, type SessionUser, sessionLapsed, type TokenSet } from './sessions';

/** The console's tables (its own database, flowline_console). Forward-only: add a migration, never edit one. */
export const CONSOLE_MIGRATION_SCOPE = 'console';
export const CONSOLE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions and pending logins',
    statements: [
      // id_hash: SHA-256 of the cookie's random id. tokens: the TokenSet, AES-256-GCM sealed. Times: epoch ms.
      `CREATE TABLE console_session (
        id_hash text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('staff', 'customer')),
        subject text NOT NULL,
        user_claims jsonb NOT NULL,
        tokens text NOT NULL,
        created_at bigint NOT NULL,
        last_seen_at bigint NOT NULL,
        expires_at bigint NOT NULL
      )`,
      `CREATE INDEX console_session_expires_at ON console_session (expires_at)`,
      `CREATE INDEX console_session_last_seen_at ON console_session (last_seen_at)`,
      // state_hash: SHA-256 of the state; login: the PKCE verifier, nonce, returnTo and redirect URI, sealed.
      `CREATE TABLE console_login (
        state_hash text PRIMARY KEY,
        login text NOT NULL,
        created_at bigint NOT NULL
      )`,
      `CREATE INDEX console_login_created_at ON console_login (created_at)`,
    ],
  },
];

/** A read counts as activity at most this often (no write per forwarded request). */
const TOUCH_EVERY_MS = 60_000;
/** Lapsed rows are deleted at most this often, by whichever replica creates a session then. */
const SWEEP_EVERY_MS = 60_000;

interface SessionRow {
  id_hash: string;
  kind: ConsoleSession['kind'];
  user_claims: SessionUser;
  tokens: string;
  created_at: string;
  last_seen_at: string;
}

/**
 * Sessions in the console's PostgreSQL database, shared by every replica: the cookie carries only a
 * random id (its SHA-256 is the key), tokens are sealed with the configured key (`TokenSealer`),
 * a session ends at its absolute lifetime, after `idleTtlMs` without requests, or at logout (row
 * deleted). A row whose tokens no configured key opens (its key rotated out) counts as no session.
 */
export class PgSessionStore implements SessionRepository {
  private lastSweep = 0;

  constructor(
    private readonly pool: Pool,
    private readonly sealer: TokenSealer,
    private readonly opts: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async startLogin(p: Omit<PendingLogin, 'state' | 'createdAt'>): Promise<PendingLogin> {
    const login: PendingLogin = { ...p, state: randomToken(24), createdAt: this.now() };
    const hash = sessionIdHash(login.state);
    await this.pool.query(`INSERT INTO console_login (state_hash, login, created_at) VALUES ($1, $2, $3)`, [hash, this.sealer.seal(JSON.stringify(login), `login:${hash}`), login.createdAt]);
    // Bounded: lapsed ones and, past maxPending, the oldest go.
    await this.pool.query(
      `DELETE FROM console_login WHERE created_at < $1 OR state_hash IN (SELECT state_hash FROM console_login ORDER BY created_at DESC OFFSET $2)`,
      [login.createdAt - this.opts.pendingTtlMs, this.opts.maxPending],
    );
    return login;
  }

  async takeLogin(state: string): Promise<PendingLogin | undefined> {
    const hash = sessionIdHash(state);
    const { rows } = await this.pool.query<{ login: string; created_at: string }>(`DELETE FROM console_login WHERE state_hash = $1 RETURNING login, created_at`, [hash]);
    const row = rows[0];
    if (!row || this.now() - Number(row.created_at) > this.opts.pendingTtlMs) return undefined;
    try {
      return JSON.parse(this.sealer.open(row.login, `login:${hash}`)) as PendingLogin;
    } catch {
      return undefined;
    }
  }

  async create(kind: ConsoleSession['kind'], user: SessionUser, tokens: TokenSet): Promise<ConsoleSession> {
    await this.sweep();
    const s: ConsoleSession = { id: randomToken(32), kind, user, tokens, createdAt: this.now() };
    const hash = sessionIdHash(s.id);
    // A customer session cannot outlive its token (no refresh); a staff session lives on by refreshing.
    const absolute = s.createdAt + this.opts.absoluteTtlMs;
    const expiresAt = kind === 'customer' ? Math.min(absolute, tokens.expiresAt) : absolute;
    await this.pool.query(
      `INSERT INTO console_session (id_hash, kind, subject, user_claims, tokens, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
      [hash, kind, user.subject, JSON.stringify(user), this.seal(hash, tokens), s.createdAt, expiresAt],
    );
    return s;
  }

  async get(id: string | undefined, kind: ConsoleSession['kind']): Promise<ConsoleSession | undefined> {
    if (!id) return undefined;
    const hash = sessionIdHash(id);
    const { rows } = await this.pool.query<SessionRow>(`SELECT id_hash, kind, user_claims, tokens, created_at, last_seen_at FROM console_session WHERE id_hash = $1`, [hash]);
    const row = rows[0];
    if (!row || row.kind !== kind) return undefined;
    const now = this.now();
    const createdAt = Number(row.created_at);
    const lastSeenAt = Number(row.last_seen_at);
    if (sessionLapsed({ createdAt }, lastSeenAt, now, this.opts)) {
      await this.pool.query(`DELETE FROM console_session WHERE id_hash = $1`, [hash]);
      return undefined;
    }
    let tokens: TokenSet;
    try {
      tokens = JSON.parse(this.sealer.open(row.tokens, `session:${hash}`)) as TokenSet;
    } catch {
      return undefined;
    }
    if (now - lastSeenAt >= TOUCH_EVERY_MS) await this.pool.query(`UPDATE console_session SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2`, [hash, now]);
    return { id, kind: row.kind, user: row.user_claims, tokens, createdAt };
  }

  async update(id: string, tokens: TokenSet, user: SessionUser): Promise<void> {
    const hash = sessionIdHash(id);
    await this.pool.query(`UPDATE console_session SET tokens = $2, user_claims = $3, subject = $4, last_seen_at = GREATEST(last_seen_at, $5) WHERE id_hash = $1`, [
      hash,
      this.seal(hash, tokens),
      JSON.stringify(user),
      user.subject,
      this.now(),
    ]);
  }

  async destroy(id: string | undefined): Promise<ConsoleSession | undefined> {
    if (!id) return undefined;
    const hash = sessionIdHash(id);
    const { rows } = await this.pool.query<SessionRow>(`DELETE FROM console_session WHERE id_hash = $1 RETURNING id_hash, kind, user_claims, tokens, created_at, last_seen_at`, [hash]);
    const row = rows[0];
    if (!row) return undefined;
    let tokens: TokenSet = { accessToken: '', expiresAt: 0 };
    try {
      tokens = JSON.parse(this.sealer.open(row.tokens, `session:${hash}`)) as TokenSet;
    } catch {
      // Sealed with a key no longer configured: the row is gone all the same.
    }
    return { id, kind: row.kind, user: row.user_claims, tokens, createdAt: Number(row.created_at) };
  }

  private seal(hash: string, tokens: TokenSet): string {
    return this.sealer.seal(JSON.stringify(tokens), `session:${hash}`);
  }

  private async sweep(): Promise<void> {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const idle = this.opts.idleTtlMs && this.opts.idleTtlMs > 0 ? now - this.opts.idleTtlMs : 0;
    await this.pool.query(`DELETE FROM console_session WHERE expires_at < $1 OR last_seen_at < $2`, [now, idle]);
  }
}
