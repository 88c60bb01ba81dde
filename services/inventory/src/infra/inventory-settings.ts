import { allocationStrategyNamed, type WarehouseAllocationStrategy } from '../domain/policies/warehouse-allocation.policy';

/** Inventory's own settings, read from the environment once at boot. */
export interface InventorySettings {
  /** `INVENTORY_ALLOCATION_STRATEGY`: single-then-split (default), single-only, split-by-priority. */
  strategy: WarehouseAllocationStrategy;
  /** `INVENTORY_CONSUMER` (default on): consume `inventory.commands.v1`. */
  consume: boolean;
  /** `INVENTORY_CONSUMER_GROUP` (default `<KAFKA_TOPIC_PREFIX>inventory`, so prefixed test runs never share a group). */
  consumerGroup: string;
  /** `INVENTORY_BATCH_MAX` (default 1000): most commands per transaction. */
  batchMax: number;
  /** `INVENTORY_BATCH_LINGER_MS` (default 2). */
  lingerMs: number;
  /** `INVENTORY_RELAY` (default on): publish stored events to `inventory.events.v1` (one replica at a time). */
  relay: boolean;
  /** `INVENTORY_RELAY_BATCH` (default 2000): events per relay page and per produce request. */
  relayBatch: number;
  /** `INVENTORY_EXPIRY_SWEEP_MS` (default 5000; 0 turns the sweeper off). */
  expirySweepMs: number;
  /** `KAFKA_TOPIC_PREFIX` (default empty). */
  topicPrefix: string;
  /** `KAFKA_TOPIC_PARTITIONS` for topics created at boot (default 12). */
  partitions: number;
}

function flag(raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === '') return fallback;
  return !['0', 'false', 'off', 'no'].includes(raw.trim().toLowerCase());
}

function int(raw: string | undefined, fallback: number, name: string, min = 0): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

export function inventorySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): InventorySettings {
  return {
    strategy: allocationStrategyNamed(env.INVENTORY_ALLOCATION_STRATEGY?.trim() || undefined),
    consume: flag(env.INVENTORY_CONSUMER, true),
    consumerGroup: env.INVENTORY_CONSUMER_GROUP?.trim() || `${env.KAFKA_TOPIC_PREFIX ?? ''}inventory`,
    batchMax: int(env.INVENTORY_BATCH_MAX, 1000, 'INVENTORY_BATCH_MAX', 1),
    lingerMs: int(env.INVENTORY_BATCH_LINGER_MS, 2, 'INVENTORY_BATCH_LINGER_MS'),
    relay: flag(env.INVENTORY_RELAY, true),
    relayBatch: int(env.INVENTORY_RELAY_BATCH, 2000, 'INVENTORY_RELAY_BATCH', 1),
    expirySweepMs: int(env.INVENTORY_EXPIRY_SWEEP_MS, 5000, 'INVENTORY_EXPIRY_SWEEP_MS'),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    partitions: int(env.KAFKA_TOPIC_PARTITIONS, 12, 'KAFKA_TOPIC_PARTITIONS', 1),
  };
}
