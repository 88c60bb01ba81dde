import { ForbiddenException } from '@nestjs/common';
import type { Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import { idempotencyKeyReused, requestHash } from '@flowline/platform';
import type { Pool, PoolClient } from 'pg';
import type { ChannelKind, StaffDirectory, StaffMember } from '../domain/notification.types';

/** Staff channel choices set over the API: channel lists per staff id (YAML stays the default). */
export type StaffPreferences = ReadonlyMap<string, readonly ChannelKind[]>;

/**
 * The directory the planner uses (pure): a staff member with a stored choice is told only on the
 * channels they chose, among those staff.yaml gives them an address for; without one, on every
 * channel staff.yaml lists.
 */
export function applyStaffPreferences(directory: StaffDirectory, prefs: StaffPreferences): StaffDirectory {
  if (prefs.size === 0) return directory;
  return {
    ...directory,
    staff: directory.staff.map((m) => {
      const chosen = prefs.get(m.id);
      if (!chosen) return m;
      return { ...m, channels: Object.fromEntries(Object.entries(m.channels).filter(([c]) => chosen.includes(c as ChannelKind))) as StaffMember['channels'] };
    }),
  };
}

export const STAFF_PREFERENCES_DDL = `
CREATE TABLE IF NOT EXISTS notification.staff_preference (
  staff_id text PRIMARY KEY,
  channels text[] NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS notification.http_idempotency (
  key text PRIMARY KEY,
  request_hash text NOT NULL,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`;

export interface StaffPreferenceView {
  staffId: string;
  name: string;
  /** Channels the person is told on now. */
  channels: ChannelKind[];
  /** Channels staff.yaml gives them an address for (what may be chosen). */
  available: ChannelKind[];
  /** `api`: a stored choice; `yaml`: the staff.yaml default. */
  source: 'api' | 'yaml';
  updatedAt: string | null;
}

type Db = Pool | PoolClient;

export async function loadStaffPreferences(db: Db): Promise<StaffPreferences> {
  const r = await db.query<{ staff_id: string; channels: ChannelKind[] }>('SELECT staff_id, channels FROM notification.staff_preference');
  return new Map(r.rows.map((x) => [x.staff_id, x.channels]));
}

function memberOf(directory: StaffDirectory, staffId: string): StaffMember {
  const m = directory.staff.find((s) => s.id === staffId);
  if (!m) throw new DomainError('STAFF_NOT_FOUND', `no staff member ${staffId} in staff.yaml`, { staffId }, 'not_found');
  return m;
}

export async function staffPreferenceView(db: Db, directory: StaffDirectory, staffId: string): Promise<StaffPreferenceView> {
  const m = memberOf(directory, staffId);
  const available = Object.keys(m.channels) as ChannelKind[];
  const r = await db.query<{ channels: ChannelKind[]; updated_at: Date }>('SELECT channels, updated_at FROM notification.staff_preference WHERE staff_id = $1', [staffId]);
  const row = r.rows[0];
  return {
    staffId,
    name: m.name,
    channels: row ? available.filter((c) => row.channels.includes(c)) : available,
    available,
    source: row ? 'api' : 'yaml',
    updatedAt: row ? row.updated_at.toISOString() : null,
  };
}

/**
 * Sets (channels) or clears (null: back to staff.yaml) a staff member's channel choice. With an
 * Idempotency-Key the reply is stored in the same transaction: a repeat replays it, the same key
 * with another request is refused (IDEMPOTENCY_KEY_REUSED).
 */
export async function setStaffPreference(pool: Pool, directory: StaffDirectory, staffId: string, channels: ChannelKind[] | null, at: string, key?: string): Promise<StaffPreferenceView> {
  const m = memberOf(directory, staffId);
  if (channels) {
    const unknown = channels.filter((c) => !m.channels[c]);
    if (unknown.length) throw new DomainError('CHANNEL_NOT_AVAILABLE', `staff.yaml gives ${staffId} no address on ${unknown.join(', ')}`, { staffId, field: 'channels', channels: unknown }, 'invalid');
  }
  const request = { op: 'staff-preference', staffId, channels };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (key) {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notification.idem.${key}`]);
      const prior = await client.query<{ request_hash: string; response: StaffPreferenceView }>('SELECT request_hash, response FROM notification.http_idempotency WHERE key = $1', [key]);
      if (prior.rows[0]) {
        await client.query('COMMIT');
        if (prior.rows[0].request_hash !== requestHash(request)) throw idempotencyKeyReused(key);
        return prior.rows[0].response;
      }
    }
    if (channels) {
      await client.query(
        `INSERT INTO notification.staff_preference (staff_id, channels, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (staff_id) DO UPDATE SET channels = EXCLUDED.channels, updated_at = EXCLUDED.updated_at`,
        [staffId, [...new Set(channels)], at],
      );
    } else {
      await client.query('DELETE FROM notification.staff_preference WHERE staff_id = $1', [staffId]);
    }
    const view = await staffPreferenceView(client, directory, staffId);
    if (key) await client.query('INSERT INTO notification.http_idempotency (key, request_hash, response) VALUES ($1, $2, $3)', [key, requestHash(request), JSON.stringify(view)]);
    await client.query('COMMIT');
    return view;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Staff change only their own channel choice (the token's subject is the staff id); an admin may
 * change anyone's (issue #16). 403 FORBIDDEN otherwise.
 */
export function assertOwnPreference(principal: Principal, staffId: string): void {
  if (principal.subject === staffId || principal.roles.includes('admin')) return;
  throw new ForbiddenException({ code: 'FORBIDDEN', message: `only ${staffId} (or an admin) may change ${staffId}'s channels`, details: { staffId } });
}
