import { afterEach, describe, expect, it } from 'vitest';
import { OffsetCommitter, type PartitionOffset } from './offset-committer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OffsetCommitter', () => {
  const made: OffsetCommitter[] = [];
  const committer = (intervalMs: number, fail?: () => boolean) => {
    const commits: PartitionOffset[][] = [];
    const c = new OffsetCommitter({
      intervalMs,
      commit: async (offsets) => {
        if (fail?.()) throw new Error('rebalance in progress');
        commits.push(offsets);
      },
    });
    made.push(c);
    return { c, commits };
  };
  afterEach(() => made.splice(0).forEach((c) => c.close()));

  it('with interval 0 commits after every batch, the next offset to read', async () => {
    const { c, commits } = committer(0);
    c.processed('t', 0, '4');
    await c.afterBatch();
    c.processed('t', 0, '9');
    await c.afterBatch();
    expect(commits).toEqual([[{ topic: 't', partition: 0, offset: '5' }], [{ topic: 't', partition: 0, offset: '10' }]]);
  });

  it('commits at most once per interval, every partition together, the latest offset of each', async () => {
    const { c, commits } = committer(150);
    c.processed('t', 0, '0');
    await c.afterBatch(); // the first commit goes at once
    for (let i = 1; i <= 30; i++) {
      c.processed('t', i % 3, String(i));
      await c.afterBatch();
    }
    expect(commits).toHaveLength(1);
    await sleep(250); // the timer commits what the burst left
    expect(commits).toHaveLength(2);
    expect(commits[1].sort((a, b) => a.partition - b.partition)).toEqual([
      { topic: 't', partition: 0, offset: '31' },
      { topic: 't', partition: 1, offset: '29' },
      { topic: 't', partition: 2, offset: '30' },
    ]);
    expect(c.pendingOffsets()).toEqual([]);
  });

  it('flush commits at once whatever the interval; nothing pending sends nothing', async () => {
    const { c, commits } = committer(60_000);
    await c.flush();
    expect(commits).toEqual([]);
    c.processed('t', 0, '1');
    await c.afterBatch();
    c.processed('t', 0, '2');
    await c.afterBatch();
    expect(commits).toHaveLength(1);
    await c.flush();
    expect(commits[1]).toEqual([{ topic: 't', partition: 0, offset: '3' }]);
  });

  it('a failed commit keeps its offsets unless the partition moved on, and the timer retries', async () => {
    let failing = true;
    const { c, commits } = committer(50, () => failing);
    c.processed('t', 0, '5');
    c.processed('t', 1, '7');
    await expect(c.flush()).rejects.toThrow('rebalance');
    c.processed('t', 1, '8');
    failing = false;
    await sleep(120);
    expect(commits).toHaveLength(1);
    expect(commits[0].sort((a, b) => a.partition - b.partition)).toEqual([
      { topic: 't', partition: 0, offset: '6' },
      { topic: 't', partition: 1, offset: '9' },
    ]);
  });

  it('after a rebalance commits only the partitions still assigned', async () => {
    const { c, commits } = committer(60_000);
    c.processed('a', 0, '1');
    c.processed('a', 1, '1');
    c.processed('b', 0, '1');
    c.retainOnly({ a: [1], b: [] });
    await c.flush();
    expect(commits).toEqual([[{ topic: 'a', partition: 1, offset: '2' }]]);
  });
});
