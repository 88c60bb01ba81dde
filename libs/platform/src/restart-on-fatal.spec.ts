import { reportFatal, setFatalHandler } from '@flowline/messaging';
import { afterEach, describe, expect, it } from 'vitest';
import { restartOnFatal } from './bootstrap';

describe('a background worker that gave up for good', () => {
  afterEach(() => setFatalHandler(undefined));

  it('stops the process gracefully with exit code 1, once, so the orchestrator starts it again', () => {
    const signals: [number, string][] = [];
    const logged: string[] = [];
    const proc = { pid: 4242, exitCode: undefined as number | string | null | undefined, kill: (pid: number, signal: NodeJS.Signals) => signals.push([pid, signal]) };
    setFatalHandler(restartOnFatal({ error: (_o: object, msg?: string) => void logged.push(String(msg)) } as never, proc));
    reportFatal('consumer tracking-projector', new Error('Failed to find group coordinator'));
    reportFatal('consumer tracking-projector', new Error('again'));
    expect(proc.exitCode).toBe(1);
    expect(signals).toEqual([[4242, 'SIGTERM']]);
    expect(logged[0]).toContain('consumer tracking-projector gave up');
  });

  it('leaves the exit code of an ordinary stop alone: a worker failing while the process stops is part of that stop', () => {
    const signals: string[] = [];
    const logged: string[] = [];
    const proc = { pid: 4242, exitCode: undefined as number | string | null | undefined, kill: (_pid: number, signal: NodeJS.Signals) => signals.push(signal) };
    let stopping = false;
    setFatalHandler(restartOnFatal({ error: (_o: object, msg?: string) => void logged.push(String(msg)) } as never, proc, () => stopping));
    stopping = true;
    reportFatal('consumer tracking-projector', new Error('The group is rebalancing'));
    expect(proc.exitCode).toBeUndefined();
    expect(signals).toEqual([]);
    expect(logged[0]).toContain('gave up while the process was stopping');
  });

  it('is only logged where no service set a handler (tests, tools)', () => {
    expect(() => reportFatal('consumer x', new Error('gone'))).not.toThrow();
  });
});
