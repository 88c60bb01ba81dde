import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { createIfMissing, quoteTable } from '../sql';

/** Thrown when a write needed a lease this process no longer holds (another replica took over). */
export class FencedOut extends Error {
  constructor(relay: string, token: bigint) {
    super(`relay ${relay}: lease token ${token} is no longer current; another replica leads`);
    this.name = 'FencedOut';
  }
}

/**
 * Relay leadership as a lease in the service database: one row per relay name with the holder,
 * a fencing token (incremented on every takeover) and an expiry the leader renews. A leader that
 * freezes (SIGSTOP) or loses its database stops renewing; once the expiry passes a standby takes
 * the lease with a new token, and every checkpoint write is conditional on the token, so the old
 * leader, resumed, cannot move the checkpoint (back). Unlike an advisory lock, the lease is not
 * tied to a connection that a frozen process keeps open.
 */
export class RelayLease {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly table: string;
  private ready: Promise<void> | null = null;
  /** Current token while held. */
  token: bigint | null = null;
  /** Local deadline: past it this process must assume it lost the lease (its clock, conservative). */
  private validUntil = 0;

  constructor(
    private readonly pool: Pool,
    readonly relay: string,
    readonly ttlMs: number,
    tableName = 'relay_leases',
  ) {
    this.table = quoteTable(tableName);
  }

  get tableName(): string {
    return this.table;
  }

  init(): Promise<void> {
    this.ready ??= createIfMissing(
      this.pool,
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         relay_name text PRIMARY KEY,
         holder     text NOT NULL,
         token      bigint NOT NULL,
         expires_at timestamptz NOT NULL
       )`,
    ).catch((e) => {
      this.ready = null;
      throw e;
    });
    return this.ready;
  }

  /** Takes the lease when free or expired; true when this process now leads (with a new token). */
  async acquire(): Promise<boolean> {
    await this.init();
    const started = Date.now();
    const { rows } = await this.pool.query<{ token: string }>(
      `INSERT INTO ${this.table} (relay_name, holder, token, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (relay_name) DO UPDATE SET holder = EXCLUDED.holder, token = ${this.table}.token + 1, expires_at = EXCLUDED.expires_at
       WHERE ${this.table}.expires_at < now()
       RETURNING token`,
      [this.relay, this.holder, this.ttlMs],
    );
    if (rows.length === 0) return false;
    this.token = BigInt(rows[0].token);
    this.validUntil = started + this.ttlMs;
    return true;
  }

  /** Extends the lease; false when it was taken over (the token moved on). */
  async renew(): Promise<boolean> {
    if (this.token === null) return false;
    const started = Date.now();
    const r = await this.pool.query(`UPDATE ${this.table} SET expires_at = now() + $3 * interval '1 millisecond' WHERE relay_name = $1 AND token = $2`, [
      this.relay,
      String(this.token),
      this.ttlMs,
    ]);
    if ((r.rowCount ?? 0) === 0) {
      this.token = null;
      return false;
    }
    this.validUntil = started + this.ttlMs;
    return true;
  }

  /** True while this process may act as leader by its own clock (renewed within the TTL). */
  held(): boolean {
    return this.token !== null && Date.now() < this.validUntil;
  }

  /** Gives the lease up at once (graceful stop): a standby takes it at its next try. */
  async release(): Promise<void> {
    const token = this.token;
    this.token = null;
    if (token === null) return;
    await this.pool
      .query(`UPDATE ${this.table} SET expires_at = now() - interval '1 millisecond' WHERE relay_name = $1 AND token = $2`, [this.relay, String(token)])
      .catch(() => undefined);
  }

  /** Subquery for a fenced write: true only while `token` is the current one (locks the row against a takeover meanwhile). */
  fenceSql(relayParam: string, tokenParam: string): string {
    return `EXISTS (SELECT 1 FROM ${this.table} WHERE relay_name = ${relayParam} AND token = ${tokenParam} FOR SHARE)`;
  }
}
