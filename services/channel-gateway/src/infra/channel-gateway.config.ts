import { DEFAULT_IMPORT_BODY_LIMIT_BYTES } from '../api/http/import-body-limit';
import type { ShopAccount } from '../application/connector.port';

/** channel-gateway settings from the environment (README: Environment). */
export interface ChannelGatewayConfig {
  /** order-intake's REST base URL. */
  orderIntakeUrl: string;
  /** Shops with API access (CHANNEL_SHOPS, a JSON array of ShopAccount). */
  shops: ShopAccount[];
  /** How often every shop is pulled; 0 turns the poller off (pulls on demand only). */
  pollIntervalMs: number;
  /** Where a shop's first pull starts, back from now. */
  initialLookbackMs: number;
  /** Stock push-back: consume inventory's ATP and push it to the shops (off: neither). */
  stockPush: boolean;
  /** Stock updates per shop per second (platform throttles). */
  stockPushPerSecond: number;
  /** How often due stock updates are sent. */
  stockPushIntervalMs: number;
  /** KAFKA_TOPIC_PREFIX (tests). */
  topicPrefix: string;
  /** Body limit of POST /api/imports only (CHANNEL_IMPORT_BODY_LIMIT_BYTES, 16 MiB): files come base64 in JSON. */
  importBodyLimitBytes: number;
}

function bytes(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error('CHANNEL_IMPORT_BODY_LIMIT_BYTES must be a positive whole number of bytes');
  return n;
}

export function channelGatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelGatewayConfig {
  let shops: ShopAccount[] = [];
  if (env.CHANNEL_SHOPS) {
    const parsed = JSON.parse(env.CHANNEL_SHOPS) as unknown;
    if (!Array.isArray(parsed)) throw new Error('CHANNEL_SHOPS must be a JSON array of {platform, shopId, appKey, appSecret, baseUrl}');
    shops = parsed as ShopAccount[];
  }
  const num = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of milliseconds`);
    return n;
  };
  return {
    orderIntakeUrl: env.ORDER_INTAKE_URL ?? 'http://127.0.0.1:3001',
    shops,
    pollIntervalMs: num('CHANNEL_POLL_INTERVAL_MS', 60_000),
    initialLookbackMs: num('CHANNEL_PULL_LOOKBACK_MS', 86_400_000),
    stockPush: (env.CHANNEL_STOCK_PUSH ?? 'on') !== 'off',
    stockPushPerSecond: num('CHANNEL_STOCK_PUSH_PER_SECOND', 5),
    stockPushIntervalMs: num('CHANNEL_STOCK_PUSH_INTERVAL_MS', 200),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    importBodyLimitBytes: bytes(env.CHANNEL_IMPORT_BODY_LIMIT_BYTES, DEFAULT_IMPORT_BODY_LIMIT_BYTES),
  };
}
