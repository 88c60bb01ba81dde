import { hostname } from 'node:os';
import { DEFAULT_CHAINS_PATH } from './chain-set.loader';

export interface ApprovalSettings {
  chainsPath: string;
  consumerGroup: string;
  /** Run the command consumer and the relay (off for a read-only replica). */
  messaging: boolean;
  timers: boolean;
  timerPollMs: number;
  timerConcurrency: number;
  instanceId: string;
  /** Driven clock (tests, demos): time moves only when told (POST /api/test/clock/advance). Refused in production. */
  drivenClock: boolean;
}

function ms(value: string | undefined, fallback: number): number {
  if (!value) return fallback;
  const m = /^(\d+)(ms|s)?$/.exec(value.trim());
  if (!m) throw new Error(`not a duration in ms or s: ${value}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export function approvalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ApprovalSettings {
  return {
    chainsPath: env.APPROVAL_CHAINS_PATH || DEFAULT_CHAINS_PATH,
    consumerGroup: env.APPROVAL_CONSUMER_GROUP || 'approval.commands',
    messaging: env.APPROVAL_MESSAGING !== 'off',
    timers: env.APPROVAL_TIMERS !== 'off',
    timerPollMs: ms(env.APPROVAL_TIMER_POLL, 1000),
    timerConcurrency: Number(env.APPROVAL_TIMER_CONCURRENCY || 2),
    instanceId: env.APPROVAL_INSTANCE_ID || `${hostname()}-${process.pid}`,
    drivenClock: drivenClock(env),
  };
}

function drivenClock(env: NodeJS.ProcessEnv): boolean {
  if (env.APPROVAL_DRIVEN_CLOCK !== 'on') return false;
  if (env.NODE_ENV === 'production') throw new Error('APPROVAL_DRIVEN_CLOCK=on is for tests and demos: refused with NODE_ENV=production');
  return true;
}
