import { resolve } from 'node:path';
import { databasePoolMax } from '@flowline/platform';
import { DEFAULT_AFTER_SALES_DAYS } from '../domain/policies/after-sales-archive.policy';
import type { Scalar } from '../domain/rules/rule-set';

/** order-intake's own settings (PlatformModule resolves the database URL and Kafka brokers). */
export interface OrderIntakeConfig {
  /** The flow-rule file (YAML or JSON). */
  rulesFile: string;
  /** Overrides of the rule file's params, e.g. the approval threshold. */
  ruleParams: Record<string, Scalar>;
  /** Paid but not reserved within this -> exception RESERVATION_TIMEOUT. */
  reservationTimeoutMs: number;
  /** How often the reservation timer scans (0 disables it). */
  timeoutScanIntervalMs: number;
  /** After-sales window: a delivered order is archived this many days later (ORDER_AFTER_SALES_DAYS). */
  afterSalesDays: number;
  /** How often the after-sales archiver scans (0 disables it). */
  archiveScanIntervalMs: number;
  /** How often orders waiting for stock are tried again against inventory's stock (0 disables the timer; the API still runs it on demand). */
  shortageRetryIntervalMs: number;
  /** Inventory's HTTP API (its stock of a SKU, for the shortage retry). */
  inventoryUrl: string;
  /** Run the relay (log -> Kafka). */
  relay: boolean;
  /** Run the process manager consumer. */
  processManager: boolean;
  /** Partitions the process manager consumes in parallel. */
  processManagerConcurrency: number;
  /** Prefix of every topic name (tests isolate with it); default KAFKA_TOPIC_PREFIX. */
  topicPrefix: string;
  /** Partitions of topics this service creates (default KAFKA_TOPIC_PARTITIONS or 12). */
  topicPartitions: number;
  /** Event store schema in the service database. */
  eventStoreSchema: string;
}

export const DEFAULT_RULES_FILE = resolve(__dirname, '../../rules/default.rules.yaml');

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative integer`);
  return n;
}

function flagFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new Error(`${name}=${raw} is not on/off`);
}

/** Reads the configuration from the environment (README lists every variable). */
export function orderIntakeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OrderIntakeConfig {
  let ruleParams: Record<string, Scalar> = {};
  if (env.ORDER_RULE_PARAMS?.trim()) {
    const parsed = JSON.parse(env.ORDER_RULE_PARAMS) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('ORDER_RULE_PARAMS must be a JSON object');
    ruleParams = parsed as Record<string, Scalar>;
  }
  return {
    rulesFile: env.ORDER_RULES_FILE?.trim() ? resolve(env.ORDER_RULES_FILE) : DEFAULT_RULES_FILE,
    ruleParams,
    reservationTimeoutMs: intFrom(env, 'ORDER_RESERVATION_TIMEOUT_MS', 15 * 60_000),
    timeoutScanIntervalMs: intFrom(env, 'ORDER_TIMEOUT_SCAN_INTERVAL_MS', 30_000),
    afterSalesDays: intFrom(env, 'ORDER_AFTER_SALES_DAYS', DEFAULT_AFTER_SALES_DAYS),
    archiveScanIntervalMs: intFrom(env, 'ORDER_ARCHIVE_SCAN_INTERVAL_MS', 60 * 60_000),
    shortageRetryIntervalMs: intFrom(env, 'ORDER_SHORTAGE_RETRY_INTERVAL_MS', 60_000),
    inventoryUrl: (env.INVENTORY_URL?.trim() || 'http://127.0.0.1:3002').replace(/\/+$/, ''),
    relay: flagFrom(env, 'ORDER_RELAY', true),
    processManager: flagFrom(env, 'ORDER_PROCESS_MANAGER', true),
    processManagerConcurrency: intFrom(env, 'ORDER_PM_CONCURRENCY', 4) || 1,
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    topicPartitions: intFrom(env, 'KAFKA_TOPIC_PARTITIONS', 12) || 12,
    eventStoreSchema: env.ORDER_EVENTSTORE_SCHEMA?.trim() || 'eventstore',
  };
}

/**
 * Connections of order-intake's one pool (event store, its tables, idempotency keys). Each
 * concurrent process-manager partition holds one for its transaction (the order is loaded on it);
 * each HTTP/gRPC command holds one for its single transaction (Idempotency-Key row, order change,
 * outbox: ADR 0015); the relay and the timers take the rest. Kept above twice the concurrency, as
 * when a partition needed a second connection to load. 16 at the default concurrency: fewer than
 * the 12 + 10 of the two pools it replaces. DATABASE_POOL_MAX lowers it (replicas x pools must fit
 * PostgreSQL's max_connections), but never to twice the concurrency or below: lower
 * ORDER_PM_CONCURRENCY with it.
 */
export function orderPoolSize(config: Pick<OrderIntakeConfig, 'processManagerConcurrency'>, env: NodeJS.ProcessEnv = process.env): number {
  const floor = 2 * config.processManagerConcurrency + 2;
  return Math.max(floor, databasePoolMax(Math.max(16, 2 * config.processManagerConcurrency + 8), env));
}
