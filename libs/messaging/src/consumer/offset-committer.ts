/** One partition's position to commit: `offset` is the next offset to read (last processed + 1). */
export interface PartitionOffset {
  /** Physical topic name, as the broker knows it. */
  topic: string;
  partition: number;
  offset: string;
}

export interface OffsetCommitterOptions {
  /**
   * Least time between two commits (ms). 0 commits after every batch, as kafkajs' autoCommit does:
   * one OffsetCommit request, and one record in `__consumer_offsets`, per partition batch.
   */
  intervalMs: number;
  /** Sends one OffsetCommit for these partitions (kafkajs `consumer.commitOffsets`). */
  commit: (offsets: PartitionOffset[]) => Promise<void>;
  /** A failed commit: its offsets are kept and tried again on the next commit. */
  onError?: (error: unknown) => void;
}

const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;

/**
 * Group offsets committed at most every `intervalMs` (ADR 0022). kafkajs' autoCommit sends an
 * OffsetCommit after every batch of every partition; at Flowline's rates that was ~90 committed
 * offsets per order, a broker log append each, for offsets that only bound redelivery after a
 * crash or a rebalance - and every consumer is idempotent (inbox, checkpoints), so redelivering
 * up to `intervalMs` of messages costs a dedupe, not a wrong effect. A timer commits what a quiet
 * partition processed last; `flush()` commits everything at once (stop, end of a draining batch).
 */
export class OffsetCommitter {
  private pending = new Map<string, PartitionOffset>();
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: OffsetCommitterOptions) {}

  /** `lastOffset` of (topic, partition) was processed: the group may move past it. */
  processed(topic: string, partition: number, lastOffset: string): void {
    this.pending.set(key(topic, partition), { topic, partition, offset: (BigInt(lastOffset) + 1n).toString() });
  }

  /** After a batch: commits when the interval has passed since the last commit, else leaves it to the timer. */
  async afterBatch(): Promise<void> {
    if (this.pending.size === 0) return;
    if (performance.now() - this.lastCommitAt >= this.options.intervalMs) await this.flush();
    else this.schedule();
  }

  /** Commits every pending offset now (serialised after a commit in flight). */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.commitPending());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** After a rebalance: partitions this member no longer owns are not committed by it. */
  retainOnly(assignment: Record<string, number[]>): void {
    for (const [k, o] of this.pending) if (!(assignment[o.topic] ?? []).includes(o.partition)) this.pending.delete(k);
  }

  /** Offsets waiting for the next commit (for tests and diagnostics). */
  pendingOffsets(): PartitionOffset[] {
    return [...this.pending.values()];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastCommitAt + this.options.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, wait);
    this.timer.unref();
  }

  private async commitPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.lastCommitAt = performance.now();
    try {
      await this.options.commit(batch);
    } catch (e) {
      // Kept unless a later batch has moved the partition on meanwhile; the timer tries again.
      for (const o of batch) if (!this.pending.has(key(o.topic, o.partition))) this.pending.set(key(o.topic, o.partition), o);
      this.options.onError?.(e);
      this.schedule();
      throw e;
    }
  }
}
