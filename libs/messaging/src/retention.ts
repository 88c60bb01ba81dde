import { errorMessage, type MessagingLogger } from './logger';
import { quoteTable, type SqlQueryable } from './sql';

/** A table whose rows are dropped once older than `days` (by `column`, a timestamptz). */
export interface RetentionRule {
  table: string;
  column: string;
  days: number;
}

export interface RetentionSettings {
  /** Inbox rows (`messaging_inbox`) kept this long: past the topics' reprocessing window. Default 30. */
  inboxDays: number;
  /** HTTP Idempotency-Key replies kept this long. Default 7. */
  idempotencyDays: number;
  /** How often the job runs (default hourly); 0 turns it off. */
  intervalMs: number;
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${value}`);
  return n;
}

/** INBOX_RETENTION_DAYS, IDEMPOTENCY_RETENTION_DAYS, RETENTION_INTERVAL_MS. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionSettings {
  return {
    inboxDays: positive(env.INBOX_RETENTION_DAYS, 30, 'INBOX_RETENTION_DAYS'),
    idempotencyDays: positive(env.IDEMPOTENCY_RETENTION_DAYS, 7, 'IDEMPOTENCY_RETENTION_DAYS'),
    intervalMs: positive(env.RETENTION_INTERVAL_MS, 3_600_000, 'RETENTION_INTERVAL_MS'),
  };
}

/** Deletes rows older than the rule allows, in batches (short locks); returns how many went. */
export async function pruneTable(db: SqlQueryable, rule: RetentionRule, now: Date = new Date(), batch = 10_000): Promise<number> {
  const cutoff = new Date(now.getTime() - rule.days * 86_400_000).toISOString();
  const table = quoteTable(rule.table);
  const column = `"${rule.column.replace(/"/g, '""')}"`;
  let total = 0;
  for (;;) {
    const r = await db.query(`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT ${batch})`, [cutoff]);
    const n = r.rowCount ?? 0;
    total += n;
    if (n < batch) return total;
  }
}

/**
 * The pruning job: every `intervalMs`, each rule's old rows are deleted. Inbox and idempotency
 * tables otherwise grow forever. Safe on every replica at once (plain deletes).
 */
export function startRetentionJob(db: SqlQueryable, rules: RetentionRule[], intervalMs: number, logger: MessagingLogger): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(async () => {
      for (const rule of rules) {
        try {
          const n = await pruneTable(db, rule);
          if (n > 0) logger.info('retention: pruned old rows', { table: rule.table, rows: n, olderThanDays: rule.days });
        } catch (e) {
          logger.warn('retention: prune failed (next run retries)', { table: rule.table, error: errorMessage(e) });
        }
      }
    });
  };
  const timer = intervalMs > 0 ? setInterval(run, intervalMs) : null;
  timer?.unref();
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
