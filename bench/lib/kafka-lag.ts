/**
 * Consumer-group lag (messages between a group's committed offsets and the topics' ends), sampled
 * every second during a phase: the group whose lag grows is the stage that bounds the flow.
 */
import { logLevel, type Admin } from 'kafkajs';
import { createKafka } from '../../libs/messaging/src/index';
import { kafkaTraffic, type KafkaTraffic } from './kafka-traffic';

export const FLOW_GROUPS: Record<string, string[]> = {
  'order-intake.process-manager': ['orders.events.v1', 'inventory.events.v1'],
  inventory: ['inventory.commands.v1'],
  'tracking-projector': ['orders.events.v1', 'inventory.events.v1'],
};

export class LagSampler {
  private admin: Admin | null = null;
  private timer: NodeJS.Timeout | null = null;
  private max = new Map<string, number>();
  private busy = false;

  constructor(private readonly groups: Record<string, string[]> = FLOW_GROUPS) {}

  async start(): Promise<void> {
    // createKafka applies the kafkajs idle-timer fix (see event-watch.ts).
    const kafka = createKafka({ clientId: 'bench-lag', logLevel: logLevel.NOTHING });
    this.admin = kafka.admin();
    await this.admin.connect();
    this.timer = setInterval(() => void this.sample(), 1_000);
    this.timer.unref();
  }

  /** Messages per topic and committed offsets per group now (see kafka-traffic.ts). */
  async traffic(prefix: string, skipGroup?: (groupId: string) => boolean): Promise<KafkaTraffic> {
    if (!this.admin) throw new Error('lag sampler not started');
    return kafkaTraffic(this.admin, prefix, skipGroup);
  }

  /** Largest lag per group since the previous call. */
  mark(): Record<string, number> {
    const out = Object.fromEntries(this.max);
    this.max = new Map();
    return out;
  }

  private async sample(): Promise<void> {
    if (this.busy || !this.admin) return;
    this.busy = true;
    try {
      for (const [group, topics] of Object.entries(this.groups)) {
        let lag = 0;
        for (const topic of topics) {
          const ends = await this.admin.fetchTopicOffsets(topic);
          const committed = (await this.admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? [];
          for (const e of ends) {
            const c = Number(committed.find((p) => p.partition === e.partition)?.offset ?? -1);
            // No commit yet on that partition: nothing consumed there so far, nothing to count.
            if (c >= 0) lag += Math.max(0, Number(e.high) - c);
          }
        }
        this.max.set(group, Math.max(this.max.get(group) ?? 0, lag));
      }
    } catch {
      /* a missed sample is fine */
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.admin?.disconnect().catch(() => undefined);
  }
}
