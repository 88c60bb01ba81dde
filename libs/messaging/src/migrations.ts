import { DEFAULT_INBOX_TABLE, inboxDdl } from './consumer/inbox';
import { quoteTable } from './sql';

/** Scope of libs/messaging's tables in a service database's `flowline_schema_migrations`. */
export const MESSAGING_MIGRATION_SCOPE = 'messaging';

export interface MessagingTables {
  /** Consumer inbox (default messaging_inbox). */
  inbox?: string;
  /** Relay checkpoints (default relay_checkpoints). */
  checkpoints?: string;
  /** Relay leases (default relay_leases). */
  leases?: string;
}

/** The relay checkpoint table's DDL (PgCheckpointStore). */
export function relayCheckpointsDdl(table = 'relay_checkpoints'): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (
         relay_name text PRIMARY KEY,
         position text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now()
       )`;
}

/** The relay lease table's DDL (RelayLease). */
export function relayLeasesDdl(table = 'relay_leases'): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (
         relay_name text PRIMARY KEY,
         holder     text NOT NULL,
         token      bigint NOT NULL,
         expires_at timestamptz NOT NULL
       )`;
}

/**
 * libs/messaging's tables in a service database, as versioned migrations for libs/platform
 * `runMigrations(transactions, messagingMigrationScope(tables), messagingMigrations(tables))`, run
 * by the service's boot path and its migrate-only entry (this library cannot import the runner:
 * libs/platform depends on it). Shape: { version, name, statements } (platform's Migration).
 * v1 is the tables exactly as the library created them lazily before, IF NOT EXISTS kept so a
 * database that already has them is adopted. Never edit a released version: append the next.
 */
export function messagingMigrations(tables: MessagingTables = {}): { version: number; name: string; statements: string[] }[] {
  return [
    {
      version: 1,
      name: 'baseline: consumer inbox, relay checkpoints, relay leases',
      statements: [inboxDdl(tables.inbox ?? DEFAULT_INBOX_TABLE), relayCheckpointsDdl(tables.checkpoints), relayLeasesDdl(tables.leases)],
    },
  ];
}

/** `messaging` for the default table names, else `messaging:<inbox>,<checkpoints>,<leases>` (each set of tables its own history). */
export function messagingMigrationScope(tables: MessagingTables = {}): string {
  const names = [tables.inbox ?? DEFAULT_INBOX_TABLE, tables.checkpoints ?? 'relay_checkpoints', tables.leases ?? 'relay_leases'];
  return names.join(',') === `${DEFAULT_INBOX_TABLE},relay_checkpoints,relay_leases` ? MESSAGING_MIGRATION_SCOPE : `${MESSAGING_MIGRATION_SCOPE}:${names.join(',')}`;
}
