import { describe, expect, it } from 'vitest';
import { releaseTime } from './quiet-hours';
import { decideAfterAttempt } from './delivery.policy';

const quiet = { start: '22:00', end: '08:00', timeZone: 'Asia/Shanghai' };

describe('quiet hours 22:00-08:00 Asia/Shanghai', () => {
  it('holds a message at 23:30 Shanghai until 08:00 the next morning', () => {
    expect(releaseTime('2026-11-25T15:30:00.000Z', quiet)).toEqual({ held: true, at: '2026-11-26T00:00:00.000Z' });
  });
  it('holds a message at 03:00 Shanghai until 08:00 the same morning', () => {
    expect(releaseTime('2026-11-25T19:00:00.000Z', quiet)).toEqual({ held: true, at: '2026-11-26T00:00:00.000Z' });
  });
  it('sends at once at 08:00 and at 21:59', () => {
    expect(releaseTime('2026-11-26T00:00:00.000Z', quiet).held).toBe(false);
    expect(releaseTime('2026-11-25T13:59:00.000Z', quiet).held).toBe(false);
  });
});

describe('delivery policy', () => {
  const policy = { maxAttempts: 4, initialMs: 1000, maxMs: 3000 };
  it('retries a transient error with growing, capped backoff, then dead-letters it with the reason', () => {
    const t = (n: number) => decideAfterAttempt({ ok: false, transient: true, code: 'ServiceUnavailable', message: 'busy' }, n, '2026-01-01T00:00:00.000Z', policy);
    expect(t(1)).toMatchObject({ status: 'retry', nextAttemptAt: '2026-01-01T00:00:01.000Z' });
    expect(t(2)).toMatchObject({ status: 'retry', nextAttemptAt: '2026-01-01T00:00:02.000Z' });
    expect(t(3)).toMatchObject({ status: 'retry', nextAttemptAt: '2026-01-01T00:00:03.000Z' });
    expect(t(4)).toEqual({ status: 'dead', code: 'ServiceUnavailable', message: 'gave up after 4 attempts: busy' });
  });
  it('fails a permanent error at once', () => {
    expect(decideAfterAttempt({ ok: false, transient: false, code: '43101', message: 'user refuse to accept the msg' }, 1, '2026-01-01T00:00:00.000Z', policy)).toEqual({ status: 'failed', code: '43101', message: 'user refuse to accept the msg' });
  });
});
