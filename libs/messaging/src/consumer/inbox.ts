import { createIfMissing, queryPrepared, quoteTable, type SqlQueryable } from '../sql';

export const DEFAULT_INBOX_TABLE = 'messaging_inbox';

/** DDL of the inbox: one row per (consumer group, eventId) that the group has applied. */
export function inboxDdl(table: string = DEFAULT_INBOX_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (
    consumer_group text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
  )`;
}

export async function ensureInbox(db: { execute(sql: string): Promise<void> }, table: string = DEFAULT_INBOX_TABLE): Promise<void> {
  await createIfMissing({ query: async (sql) => (await db.execute(sql), { rows: [], rowCount: 0 }) }, inboxDdl(table));
}

export interface InboxEntry {
  group: string;
  eventId: string;
  eventType: string;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Claims an event for a group inside the caller's transaction. False means the group applied it
 * before (a redelivery): skip the handler. A concurrent claim of the same event waits for the
 * other transaction and then sees it.
 */
export async function claimInbox(tx: SqlQueryable, table: string, entry: InboxEntry): Promise<boolean> {
  // Prepared: one text per inbox table, planned once per connection (on its generic plan in a
  // transaction that asks for those, see pgTransactions).
  const r = await queryPrepared(
    tx,
    `INSERT INTO ${quoteTable(table)} (consumer_group, event_id, event_type, topic, partition, "offset")
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consumer_group, event_id) DO NOTHING`,
    [entry.group, entry.eventId, entry.eventType, entry.topic, entry.partition, entry.offset],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * Claims several events of one partition for a group in one statement (inside the caller's
 * transaction). Returns the ids newly claimed; the others were applied before. An id listed twice
 * is claimed once: the caller applies its first occurrence only.
 */
export async function claimInboxMany(
  tx: SqlQueryable,
  table: string,
  batch: { group: string; topic: string; partition: number; events: { eventId: string; eventType: string; offset: string }[] },
): Promise<Set<string>> {
  // Prepared: one text per inbox table, planned once per connection (on its generic plan in a
  // transaction that asks for those, see pgTransactions).
  const r = await queryPrepared(
    tx,
    `INSERT INTO ${quoteTable(table)} (consumer_group, event_id, event_type, topic, partition, "offset")
     SELECT $1, e.event_id, e.event_type, $2, $3, e.off
       FROM unnest($4::text[], $5::text[], $6::bigint[]) AS e(event_id, event_type, off)
     ON CONFLICT (consumer_group, event_id) DO NOTHING
     RETURNING event_id`,
    [batch.group, batch.topic, batch.partition, batch.events.map((e) => e.eventId), batch.events.map((e) => e.eventType), batch.events.map((e) => e.offset)],
  );
  return new Set((r.rows as { event_id: string }[]).map((row) => row.event_id));
}

/**
 * Claims events of any topics and partitions for a group in one statement (inside the caller's
 * transaction): what a cross-partition group commit needs. Returns the ids newly claimed; an id
 * listed twice is claimed once.
 */
export async function claimInboxEntries(tx: SqlQueryable, table: string, group: string, entries: readonly Omit<InboxEntry, 'group'>[]): Promise<Set<string>> {
  // Prepared: one text per inbox table, planned once per connection (on its generic plan in a
  // transaction that asks for those, see pgTransactions).
  const r = await queryPrepared(
    tx,
    `INSERT INTO ${quoteTable(table)} (consumer_group, event_id, event_type, topic, partition, "offset")
     SELECT $1, e.event_id, e.event_type, e.topic, e.partition, e.off
       FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS e(event_id, event_type, topic, partition, off)
     ON CONFLICT (consumer_group, event_id) DO NOTHING
     RETURNING event_id`,
    [group, entries.map((e) => e.eventId), entries.map((e) => e.eventType), entries.map((e) => e.topic), entries.map((e) => e.partition), entries.map((e) => e.offset)],
  );
  return new Set((r.rows as { event_id: string }[]).map((row) => row.event_id));
}

/** Deletes inbox rows older than `olderThan` (keep them longer than the topic retention). */
export async function pruneInbox(db: SqlQueryable, olderThan: Date, table: string = DEFAULT_INBOX_TABLE): Promise<number> {
  const r = await db.query(`DELETE FROM ${quoteTable(table)} WHERE processed_at < $1`, [olderThan.toISOString()]);
  return r.rowCount ?? 0;
}
