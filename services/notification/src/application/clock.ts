import type { Pool } from 'pg';
import { NotificationStore } from '../infra/notification-store';

/** "Now" for queueing and dispatch. The driven clock (tests, demos of quiet hours) is one DB row every instance reads. */
export interface Clock {
  now(): Promise<string>;
  readonly driven: boolean;
}

export const systemClock: Clock = { now: async () => new Date().toISOString(), driven: false };

export function drivenClock(pool: Pool): Clock {
  return {
    driven: true,
    now: async () => (await NotificationStore.drivenNow(pool)) ?? new Date().toISOString(),
  };
}
