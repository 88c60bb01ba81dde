import { describe, expect, it } from 'vitest';
import { CoalescingRecorder } from './dispatcher';

describe('CoalescingRecorder (the dispatcher writes outcomes as sends return)', () => {
  it('items that arrive together go in one write; those arriving during a write go in the next; drain waits for all', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const firstWrite = new Promise<void>((r) => (release = r));
    const r = new CoalescingRecorder<number>(async (batch) => {
      writes.push([...batch]);
      if (writes.length === 1) await firstWrite;
    });
    r.add(1);
    r.add(2);
    await new Promise((res) => setImmediate(res));
    expect(writes).toEqual([[1, 2]]);
    r.add(3);
    r.add(4);
    release();
    await r.drain();
    expect(writes).toEqual([[1, 2], [3, 4]]);
    r.add(5);
    await r.drain();
    expect(writes).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('a failed write does not stop the later ones; drain throws the first failure', async () => {
    const written: number[] = [];
    const r = new CoalescingRecorder<number>(async (batch) => {
      if (batch.includes(1)) throw new Error('db down');
      written.push(...batch);
    });
    r.add(1);
    await new Promise((res) => setImmediate(res));
    r.add(2);
    await expect(r.drain()).rejects.toThrow('db down');
    expect(written).toEqual([2]);
  });
});
