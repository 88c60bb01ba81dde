import { describe, expect, it } from 'vitest';
import { withinDeadline } from './run-consumer';

describe('consumer stop deadline', () => {
  it('true when the work settles first, rejected work included', async () => {
    expect(await withinDeadline(Promise.resolve(), 1_000)).toBe(true);
    expect(await withinDeadline(Promise.reject(new Error('broker gone')), 1_000)).toBe(true);
  });

  it('false once the deadline passes while the work still hangs (a kafkajs retry loop)', async () => {
    const started = performance.now();
    expect(await withinDeadline(new Promise(() => undefined), 50)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
