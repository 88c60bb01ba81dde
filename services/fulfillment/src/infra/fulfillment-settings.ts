import { liveSecret } from '@flowline/platform';
/** Fulfillment's environment (see the README's table). */
export interface FulfillmentSettings {
  consume: boolean;
  consumerGroup: string;
  relay: boolean;
  topicPrefix: string;
  partitions: number;
  /** Carrier used when the warehouse names none: `SIM` (simulated) unless configured. */
  defaultCarrier: string;
  /** How often the simulated carrier moves each parcel one state on (0: never). */
  simulatedStepMs: number;
  /** Webhooks: first retry delay (doubles, capped at an hour, given up after 24 h), request timeout, poll interval. */
  webhookRetryBaseMs: number;
  webhookTimeoutMs: number;
  webhookPollMs: number;
  /** Inventory's REST base URL: returned resellable units are received there. */
  inventoryUrl: string;
  /** Standard Webhooks secret the factory's MES signs its progress callbacks with; unset: MES callbacks refused. */
  mesCallbackSecret: string | null;
  /** SKU prefixes made to order: their parcels wait for the MES's `completed`. */
  madeToOrderSkuPrefixes: string[];
}

function int(raw: string | undefined, fallback: number, name: string, min = 0): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function flag(raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === '') return fallback;
  return !['0', 'false', 'off', 'no'].includes(raw.trim().toLowerCase());
}

export function fulfillmentSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FulfillmentSettings {
  return {
    consume: flag(env.FULFILLMENT_CONSUMER, true),
    consumerGroup: env.FULFILLMENT_CONSUMER_GROUP?.trim() || `${env.KAFKA_TOPIC_PREFIX ?? ''}fulfillment.commands`,
    relay: flag(env.FULFILLMENT_RELAY, true),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    partitions: int(env.KAFKA_TOPIC_PARTITIONS, 12, 'KAFKA_TOPIC_PARTITIONS', 1),
    defaultCarrier: env.FULFILLMENT_DEFAULT_CARRIER?.trim() || 'SIM',
    simulatedStepMs: int(env.FULFILLMENT_SIM_CARRIER_STEP_MS, 60_000, 'FULFILLMENT_SIM_CARRIER_STEP_MS'),
    webhookRetryBaseMs: int(env.FULFILLMENT_WEBHOOK_RETRY_BASE_MS, 5_000, 'FULFILLMENT_WEBHOOK_RETRY_BASE_MS', 1),
    webhookTimeoutMs: int(env.FULFILLMENT_WEBHOOK_TIMEOUT_MS, 10_000, 'FULFILLMENT_WEBHOOK_TIMEOUT_MS', 100),
    webhookPollMs: int(env.FULFILLMENT_WEBHOOK_POLL_MS, 500, 'FULFILLMENT_WEBHOOK_POLL_MS'),
    inventoryUrl: env.INVENTORY_URL?.trim() || 'http://127.0.0.1:3002',
    // Read per use (MES_CALLBACK_SECRET_FILE: a mounted Secret, rotated without a restart).
    get mesCallbackSecret() {
      return liveSecret('MES_CALLBACK_SECRET', { env }) ?? null;
    },
    madeToOrderSkuPrefixes: (env.FULFILLMENT_MADE_TO_ORDER_SKUS ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  };
}
