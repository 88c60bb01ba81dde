import type { SqlClient } from '@flowline/eventstore';

/** The actions a durable approval timer can trigger. */
export type TimerAction = 'remind' | 'escalate' | 'expire';

export interface TimerJob {
  approvalId: string;
  step: string;
  attempt: number;
  action: TimerAction;
  /** ISO time the timer fires. */
  runAt: string;
}

/** Stable key of one timer: scheduling it twice keeps one job, cancelling removes it. */
export const timerKey = (j: Pick<TimerJob, 'approvalId' | 'step' | 'attempt' | 'action'>) => `${j.approvalId}:${j.step}:${j.attempt}:${j.action}`;

/**
 * Durable timers, written inside the caller's transaction (so a timer exists exactly when the
 * event that started its step committed, and is gone when the step's completion committed).
 */
export interface TimerScheduler {
  schedule(client: SqlClient, jobs: TimerJob[]): Promise<void>;
  cancel(client: SqlClient, keys: string[]): Promise<void>;
}
