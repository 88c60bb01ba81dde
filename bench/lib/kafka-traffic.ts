/**
 * Kafka traffic per order: how many messages each topic received and how many each consumer group
 * consumed (committed) during a phase. Messages per order count the hops an order makes; deliveries
 * per order (a message times every group that reads it) count the decodes, filters and consumer
 * transactions it causes across the system, the cost issue #10 names as the next structural step.
 * Committed offsets move at most once a second per group (ADR 0022), so a phase of N seconds
 * counts its deliveries within about a second's worth.
 */
import type { Admin } from 'kafkajs';
import { round } from './harness';

export interface KafkaTraffic {
  /** Sum of the partitions' end offsets, per topic. */
  topics: Record<string, number>;
  /** Sum of the committed offsets, per group and topic. */
  groups: Record<string, Record<string, number>>;
}

export interface TrafficPerOrder {
  messagesTotal: number;
  /** Messages per order, per topic (topics without traffic left out). */
  messages: Record<string, number>;
  deliveriesTotal: number;
  /** Messages consumed per order, per group (groups without traffic left out). */
  deliveries: Record<string, number>;
}

/** End offsets of every topic under `prefix` (dead-letter topics included: they are traffic too) and every group's committed offsets on them. */
export async function kafkaTraffic(admin: Admin, prefix: string, skipGroup: (groupId: string) => boolean = () => false): Promise<KafkaTraffic> {
  const names = (await admin.listTopics()).filter((t) => t.startsWith(prefix) && !t.startsWith('__'));
  const topics: Record<string, number> = {};
  for (const t of names) topics[t] = (await admin.fetchTopicOffsets(t)).reduce((a, p) => a + Number(p.high), 0);
  const groups: Record<string, Record<string, number>> = {};
  for (const { groupId } of (await admin.listGroups()).groups) {
    if (!groupId.startsWith(prefix) || skipGroup(groupId)) continue;
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: names })) {
      const sum = partitions.reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
      if (sum > 0) (groups[groupId] ??= {})[topic] = sum;
    }
  }
  return { topics, groups };
}

/** Per order between two snapshots; names lose `prefix`. */
export function trafficPerOrder(before: KafkaTraffic, after: KafkaTraffic, orders: number, prefix = ''): TrafficPerOrder {
  const name = (n: string) => (n.startsWith(prefix) ? n.slice(prefix.length) : n);
  const per = (n: number) => (orders > 0 ? round(n / orders, 2) : 0);
  const messages: Record<string, number> = {};
  let messagesTotal = 0;
  for (const [t, end] of Object.entries(after.topics)) {
    const d = end - (before.topics[t] ?? 0);
    if (d <= 0) continue;
    messages[name(t)] = per(d);
    messagesTotal += d;
  }
  const deliveries: Record<string, number> = {};
  let deliveriesTotal = 0;
  for (const [g, byTopic] of Object.entries(after.groups)) {
    // A group that had committed nothing on a topic before the phase starts from that topic's end
    // before it (a group joins at the end, or consumed from the start before the phase).
    const d = Object.entries(byTopic).reduce((a, [t, c]) => a + Math.max(0, c - (before.groups[g]?.[t] ?? before.topics[t] ?? 0)), 0);
    if (d <= 0) continue;
    deliveries[name(g)] = per(d);
    deliveriesTotal += d;
  }
  return { messagesTotal: per(messagesTotal), messages, deliveriesTotal: per(deliveriesTotal), deliveries };
}
