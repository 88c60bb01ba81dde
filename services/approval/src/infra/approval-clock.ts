import type { Pool } from 'pg';
import { TIMER_TASK } from './graphile-timers';

/**
 * The approval service's "now". Real time, unless the driven clock is on (`APPROVAL_DRIVEN_CLOCK=on`,
 * refused in production): then now = real time + an offset kept in the service database
 * (`approval_clock`), so every instance on the database agrees on it, and a test moves time forward
 * with `advance` instead of waiting hours for an 8 h SLA. Advancing also makes the durable timers
 * that fall due in driven time runnable now (graphile-worker's `reschedule_jobs`), so reminders,
 * escalations and expiries fire exactly as they would have, on whichever instance takes them.
 */
export class ApprovalClock {
  constructor(
    private readonly pool: Pool,
    readonly driven: boolean,
  ) {}

  async now(): Promise<string> {
    if (!this.driven) return new Date().toISOString();
    return new Date(Date.now() + (await this.offsetMs())).toISOString();
  }

  async offsetMs(): Promise<number> {
    if (!this.driven) return 0;
    const { rows } = await this.pool.query<{ offset_ms: string }>(`SELECT offset_ms FROM approval_clock WHERE id = 1`);
    return Number(rows[0]?.offset_ms ?? 0);
  }

  /** Moves driven time forward by `ms`; returns the new now and the keys of the timers made due. */
  async advance(ms: number): Promise<{ now: string; offsetMs: number; due: string[] }> {
    if (!this.driven) throw new Error('the approval clock is real time (APPROVAL_DRIVEN_CLOCK is off)');
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ offset_ms: string }>(
        `INSERT INTO approval_clock (id, offset_ms) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET offset_ms = approval_clock.offset_ms + EXCLUDED.offset_ms RETURNING offset_ms`,
        [Math.trunc(ms)],
      );
      const offsetMs = Number(rows[0].offset_ms);
      // Every waiting timer moves `ms` earlier in real time (run_at = its time in driven time less
      // the offset); those now due run at once, on whichever instance takes them first.
      const due = await client.query<{ key: string; due: boolean }>(
        `SELECT r.key, r.run_at <= now() AS due
           FROM graphile_worker.jobs j,
                LATERAL graphile_worker.reschedule_jobs(ARRAY[j.id], run_at => greatest(now(), j.run_at - $2 * interval '1 millisecond')) AS r
          WHERE j.task_identifier = $1 AND j.locked_at IS NULL`,
        [TIMER_TASK, Math.trunc(ms)],
      );
      await client.query('COMMIT');
      return { now: new Date(Date.now() + offsetMs).toISOString(), offsetMs, due: due.rows.filter((r) => r.due).map((r) => r.key) };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
