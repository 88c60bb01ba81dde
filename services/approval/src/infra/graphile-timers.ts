import type { SqlClient } from '@flowline/eventstore';
import { databasePoolMax } from '@flowline/platform';
import { Logger as WorkerLogger, run, runMigrations, type Runner, type Task } from 'graphile-worker';
import { timerKey, type TimerAction, type TimerJob, type TimerScheduler } from '../application/approval.ports';

/** graphile-worker task name of every approval timer. */
export const TIMER_TASK = 'approval-timer';

export interface TimerPayload {
  approvalId: string;
  step: string;
  attempt: number;
  action: TimerAction;
  runAt: string;
}

/**
 * Durable timers on graphile-worker (a maintained PostgreSQL job queue): jobs are rows of its
 * schema in the service database, added and removed with its SQL functions inside the caller's
 * transaction, so a timer exists exactly when its step's event committed. Workers take jobs with
 * FOR UPDATE SKIP LOCKED: with several approval instances each job runs on one of them.
 */
export class GraphileTimers implements TimerScheduler {
  async schedule(client: SqlClient, jobs: TimerJob[]): Promise<void> {
    for (const j of jobs) {
      const payload: TimerPayload = { approvalId: j.approvalId, step: j.step, attempt: j.attempt, action: j.action, runAt: j.runAt };
      // job_key_mode 'preserve_run_at': a re-scheduled key (a retried transaction) keeps one job.
      // run_at is real time: the step's time less the driven clock's offset (none in production, see approval-clock.ts).
      await client.query(
        `SELECT graphile_worker.add_job($1, $2::json,
           run_at => $3::timestamptz - (SELECT coalesce(max(offset_ms), 0) FROM approval_clock) * interval '1 millisecond',
           job_key => $4, job_key_mode => 'preserve_run_at', max_attempts => 10)`,
        [
        TIMER_TASK,
        JSON.stringify(payload),
        j.runAt,
        timerKey(j),
        ],
      );
    }
  }

  async cancel(client: SqlClient, keys: string[]): Promise<void> {
    for (const key of keys) await client.query(`SELECT graphile_worker.remove_job($1)`, [key]);
  }
}

const quietLogger = (log: { warn(m: string): void; error(m: string): void }) =>
  new WorkerLogger(() => (level, message) => {
    if (String(level) === 'error') log.error(message);
    else if (String(level) === 'warning') log.warn(message);
  });

export async function migrateTimers(connectionString: string, log: { warn(m: string): void; error(m: string): void }): Promise<void> {
  await runMigrations({ connectionString, logger: quietLogger(log) });
}

/** Starts a worker that runs due approval timers with `fire`. */
export async function startTimerWorker(options: {
  connectionString: string;
  pollIntervalMs: number;
  concurrency: number;
  fire: (payload: TimerPayload) => Promise<void>;
  log: { warn(m: string): void; error(m: string): void };
}): Promise<Runner> {
  const task: Task = async (payload) => options.fire(payload as TimerPayload);
  return run({
    connectionString: options.connectionString,
    // Its own pool: capped by DATABASE_POOL_MAX like every other pool of the process.
    maxPoolSize: databasePoolMax(3),
    concurrency: options.concurrency,
    pollInterval: options.pollIntervalMs,
    noHandleSignals: true,
    logger: quietLogger(options.log),
    taskList: { [TIMER_TASK]: task },
  });
}
